"""``keel runs …`` and ``keel experiments …``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from keel.cli.options import json_option
from keel.cli.render import (
    EXTRA_WIDTH,
    console,
    emit_json,
    escape,
    fmt_ago,
    fmt_duration,
    fmt_time,
    fmt_value,
    new_table,
    short_id,
    status_text,
)
from keel.core.entities import Run


@click.group()
def runs() -> None:
    """List, show, compare, delete and restore runs.

    \b
    Examples:
      keel runs list --filter "metrics.acc > 0.9 and params.model = 'rf'"
      keel runs show 0193ab
      keel runs compare 0193ab 0193ac
    """


def _pick_columns(found: list[Run], section: str, limit: int) -> list[str]:
    counts: Counter[str] = Counter()
    for run in found:
        counts.update(getattr(run, section).keys())
    return [key for key, _ in counts.most_common(limit)]


@runs.command("list")
@click.option("-e", "--experiment", multiple=True, help="Only runs of this experiment (repeatable).")
@click.option(
    "-f",
    "--filter",
    "filter_text",
    help="Filter, e.g. \"metrics.acc > 0.5 and params.model = 'rf'\" (see docs/tracking.md#search).",
)
@click.option("-o", "--order-by", multiple=True, help="Sort key, e.g. 'metrics.acc desc' (repeatable).")
@click.option(
    "-n", "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Most runs to list."
)
@click.option("--deleted", is_flag=True, help="Include runs in the trash.")
@click.option("--columns", help="Comma-separated extra columns, e.g. metrics.acc,params.model.")
@json_option
def list_runs(
    experiment: tuple[str, ...],
    filter_text: str | None,
    order_by: tuple[str, ...],
    limit: int,
    deleted: bool,
    columns: str | None,
    as_json: bool,
) -> None:
    """List runs, newest first."""
    from keel.tracking.queries import search_runs

    found = search_runs(
        filter_text,
        experiment=list(experiment) or None,
        order_by=list(order_by) or None,
        max_results=limit,
        include_deleted=deleted,
    )
    if as_json:
        emit_json([run.to_dict() for run in found])
        return
    if not found:
        click.echo(
            "No runs match."
            if filter_text or experiment
            else "No runs yet. Record one with `keel track -- python train.py`."
        )
        return
    out = console()
    if columns:
        extra = [c.strip() for c in columns.split(",") if c.strip()]
    else:
        # As many of the commonest metrics and params as the terminal has room for.
        room = max(0, (out.width - 72) // (EXTRA_WIDTH + 2))
        metric_keys = _pick_columns(found, "metrics", min(4, room))
        extra = [f"metrics.{k}" for k in metric_keys]
        extra += [f"params.{k}" for k in _pick_columns(found, "params", min(3, room - len(metric_keys)))]
    table = new_table("id", "experiment", "name", "status", "started", "duration", *extra, fixed=6)
    for run in found:
        cells = [
            short_id(run.id),
            escape(run.experiment),
            escape(run.name or ""),
            status_text(run.status),
            fmt_ago(run.start_time),
            fmt_duration(run.duration),
        ]
        for column in extra:
            section, _, key = column.partition(".")
            values = {"metrics": run.metrics, "params": run.params, "tags": run.tags}.get(section, {})
            cells.append(escape(fmt_value(values.get(key))))
        table.add_row(*cells)
    out.print(table)
    out.print(f"[dim]{len(found)} run(s). Details: keel runs show ID[/dim]")


@runs.command("show")
@click.argument("run_id")
@json_option
def show_run(run_id: str, as_json: bool) -> None:
    """Show everything recorded about a run (an id prefix is enough)."""
    from keel.tracking.queries import get_run

    run = get_run(run_id)
    if as_json:
        emit_json(run.to_dict())
        return
    out = console()
    out.print(f"[bold]Run {run.id}[/bold]" + ("  [dim](in trash)[/dim]" if run.deleted else ""))
    facts = [
        ("experiment", escape(run.experiment)),
        ("name", escape(run.name or "")),
        ("status", status_text(run.status)),
        ("kind", run.kind),
        ("parent", run.parent_id or ""),
        ("started", fmt_time(run.start_time)),
        ("ended", fmt_time(run.end_time)),
        ("duration", fmt_duration(run.duration)),
    ]
    for label, fact in facts:
        if fact:
            out.print(f"  {label:<11}{fact}")
    for title, values in (("Params", run.params), ("Metrics (latest)", run.metrics), ("Tags", run.tags)):
        if values:
            table = new_table("key", "value", title=title)
            for key, value in values.items():
                table.add_row(escape(key), escape(fmt_value(value)))
            out.print(table)
    if run.datasets:
        table = new_table("direction", "path", "version", "files", "rows", title="Data")
        for item in run.datasets:
            rows = f"{item.rows:,}" if item.rows is not None else ""
            table.add_row(item.direction, escape(item.path), item.oid[:12], f"{item.files:,}", rows)
        out.print(table)
    if run.artifacts:
        table = new_table("name", "size", "object", title="Artifacts")
        for artifact in run.artifacts:
            table.add_row(escape(artifact.name), f"{artifact.size:,}", artifact.oid[:12])
        out.print(table)
    _print_context(run.context)


def _print_context(context: dict[str, Any]) -> None:
    out = console()
    if not context:
        return
    table = new_table("context", "value", title="Context")
    git = context.get("git") or {}
    if git.get("available"):
        state = "dirty" if git.get("dirty") else "clean"
        table.add_row(
            "git", f"{git.get('commit') or '(no commit)'} on {git.get('branch') or '(detached)'} ({state})"
        )
        if git.get("diff"):
            table.add_row("git diff", f"object {git['diff'][:12]} ({git.get('diff_bytes', 0):,} bytes)")
        if git.get("diff_note"):
            table.add_row("git diff", escape(git["diff_note"]))
    elif git:
        table.add_row("git", escape(git.get("note", "")))
    command = context.get("command")
    if command:
        table.add_row("command", escape(" ".join(command)))
    python = context.get("python") or {}
    platform = context.get("platform") or {}
    if python:
        table.add_row("python", f"{python.get('version')} ({escape(str(python.get('executable')))})")
    if platform:
        table.add_row(
            "platform", f"{platform.get('system')} {platform.get('release')} {platform.get('machine')}"
        )
    if context.get("host"):
        table.add_row("host / user", f"{context.get('host')} / {context.get('user')}")
    packages = context.get("packages") or {}
    if packages:
        table.add_row(
            "packages", f"{packages.get('count')} distributions (object {str(packages.get('oid'))[:12]})"
        )
    out.print(table)


@runs.command("compare")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--diff-only", is_flag=True, help="Only rows whose values differ.")
@json_option
def compare(run_ids: tuple[str, ...], diff_only: bool, as_json: bool) -> None:
    """Params and metrics of two or more runs side by side; differences marked with *."""
    from keel.tracking.queries import compare_runs

    result = compare_runs(list(run_ids))
    if as_json:
        emit_json(result)
        return
    headers = [
        short_id(rid) + (f"\n{name}" if name else "")
        for rid, name in zip(result["runs"], result["names"], strict=True)
    ]
    table = new_table("", "key", *headers)
    for section in ("params", "metrics"):
        differ = set(result[f"{section}_differ"])
        for key, values in result[section].items():
            if diff_only and key not in differ:
                continue
            mark = "[bold yellow]*[/bold yellow]" if key in differ else ""
            table.add_row(mark, escape(f"{section}.{key}"), *[escape(fmt_value(v)) for v in values])
    out = console()
    out.print(table)
    out.print("[dim]* values differ[/dim]")


@runs.command("history")
@click.argument("run_id")
@click.argument("key")
@json_option
def history(run_id: str, key: str, as_json: bool) -> None:
    """Every logged value of one metric of a run."""
    from keel.tracking.queries import get_metric_history

    points = get_metric_history(run_id, key)
    if as_json:
        emit_json([p.to_dict() for p in points])
        return
    from keel.core.entities import to_datetime

    table = new_table("step", "value", "time", title=f"{key}")
    for point in points:
        table.add_row(str(point.step), fmt_value(point.value), fmt_time(to_datetime(point.timestamp)))
    console().print(table)


@runs.command("artifact")
@click.argument("run_id")
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Where to write it (default: its file name here)."
)
def artifact(run_id: str, name: str, output: Path | None) -> None:
    """Copy an artifact of a run out of the store (verified against its id)."""
    from keel.tracking.queries import get_artifact

    path = get_artifact(run_id, name, output)
    click.echo(f"Wrote {path}")


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True)
def delete(run_ids: tuple[str, ...]) -> None:
    """Move runs to the trash (hidden from lists; `keel runs restore` brings them back)."""
    _set_deleted(run_ids, True)


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True)
def restore(run_ids: tuple[str, ...]) -> None:
    """Bring runs back from the trash."""
    _set_deleted(run_ids, False)


def _set_deleted(run_ids: tuple[str, ...], deleted: bool) -> None:
    from keel.tracking.queries import get_run, set_run_deleted

    found = [get_run(rid) for rid in run_ids]  # resolve all first: a bad id changes nothing
    for run in found:
        set_run_deleted(run.id, deleted)
        click.echo(f"{'Deleted' if deleted else 'Restored'} run {run.id}")


@click.group()
def experiments() -> None:
    """List experiments (a run's experiment is set with --experiment or start_run(experiment=…))."""


@experiments.command("list")
@json_option
def list_experiments(as_json: bool) -> None:
    """Experiments with their run counts and latest run."""
    from keel.tracking.queries import list_experiments as query

    found = query()
    if as_json:
        emit_json([e.to_dict() for e in found])
        return
    if not found:
        click.echo("No experiments yet.")
        return
    table = new_table("experiment", "runs", "last run", "created")
    for experiment in found:
        table.add_row(
            escape(experiment.name),
            str(experiment.run_count),
            fmt_ago(experiment.last_run),
            fmt_time(experiment.created),
        )
    console().print(table)
