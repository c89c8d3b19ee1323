"""What ``keel run`` does and prints, without click: the console script runs ``keel run``
and ``keel run --json`` through here directly (see :mod:`keel.cli.entry`), and the click
command of :mod:`keel.cli.pipeline_cmds` with any other options."""

from __future__ import annotations

import sys
import threading
from typing import Any

from keel.cli.render import console, emit_json, escape, fmt_duration, fmt_value, new_table

_STYLE = {
    "pending": "dim",
    "running": "cyan",
    "unchanged": "green",
    "restored": "blue",
    "ran": "green",
    "failed": "red",
    "skipped": "yellow",
    "would run": "magenta",
}


def _table(reports: Any) -> Any:
    table = new_table("stage", "state", "time", "why")
    for report in reports:
        style = _STYLE.get(report.state, "white")
        table.add_row(
            escape(report.name),
            f"[{style}]{report.state}[/{style}]",
            fmt_duration(report.duration),
            escape(report.reason),
        )
    return table


def run_command(
    stages: tuple[str, ...] = (),
    force: bool = False,
    dry: bool = False,
    jobs: int | None = None,
    sets: tuple[str, ...] = (),
    sort_key: str | None = None,
    experiment: str | None = None,
    executor: str = "local",
    as_json: bool = False,
) -> None:
    """``keel run`` with these options (the defaults are the command's)."""
    from keel.core.workspace import open_workspace
    from keel.data.lockfile import LOCK_FILE
    from keel.pipeline.executor_factory import make_executor

    workspace = open_workspace()
    if not sets and not dry and (force or not (workspace.root / LOCK_FILE).exists()):
        # Every stage will run or be restored (forced, or none recorded yet), so runs will be
        # recorded: read their context (git status, packages) on a thread now, while the
        # pipeline's code loads. Otherwise the runner starts it once a stage needs to run
        # (a pipeline with nothing to do never reads it).
        from keel.tracking.context import capture_soon

        capture_soon(workspace)
    if sets and dry:
        from keel.pipeline.sweep import dry_sweep, parse_sets

        points = dry_sweep(workspace, parse_sets(sets), list(stages) or None)
        if as_json:
            emit_json({"dry": True, "points": [{"overrides": o, **r.to_dict()} for o, r in points]})
            return
        out = console()
        for overrides, point in points:
            label = ", ".join(f"{k}={fmt_value(v)}" for k, v in overrides.items())
            out.print(f"[bold]{escape(label)}[/bold]")
            out.print(_table(list(point.stages.values())))
        out.print(f"[dim]{len(points)} combination(s); nothing ran (--dry).[/dim]")
        return
    if sets:
        from keel.pipeline.sweep import parse_sets, run_sweep

        grid = parse_sets(sets)
        result = run_sweep(
            workspace,
            grid,
            list(stages) or None,
            jobs=jobs,
            force=force,
            experiment=experiment,
            executor_spec=executor,
        )
        if as_json:
            emit_json(result.to_dict(sort_key))
        else:
            _print_sweep(result, sort_key)
        if not result.ok:
            sys.exit(1)
        return
    from keel.pipeline.runner import run_pipeline

    out = console()
    live_enabled = not as_json and out.is_terminal
    targets = list(stages) or None
    options: dict[str, Any] = {
        "executor": make_executor(executor, workspace),
        "jobs": jobs,
        "force": force,
        "dry": dry,
        "experiment": experiment,
    }
    if live_enabled:
        from rich.console import Console
        from rich.live import Live

        assert isinstance(out, Console)  # a terminal's console
        lock = threading.Lock()
        with Live(console=out, refresh_per_second=8, transient=False) as live:
            state: dict[str, Any] = {}

            def listen(report: Any) -> None:
                with lock:
                    state[report.name] = report
                    live.update(_table(list(state.values())))

            report = run_pipeline(workspace, targets, listener=listen, **options)
    else:
        report = run_pipeline(workspace, targets, **options)
    if as_json:
        emit_json(report.to_dict())
    else:
        if not live_enabled:
            out.print(_table(list(report.stages.values())))
        if not report.stages:
            out.print("No stages in keel.yaml yet; see docs/pipelines.md.")
        for item in report.stages.values():
            for check in item.checks:
                if check["status"] != "passed":
                    style = "yellow" if check["status"] == "warned" or check["severity"] == "warn" else "red"
                    out.print(f"[{style}]Stage {escape(item.name)}: {escape(check['message'])}[/{style}]")
            if item.state == "failed":
                out.print(f"[red]Stage {escape(item.name)} failed ({escape(item.reason)}).[/red]")
                if item.error:
                    out.print(escape(item.error))
        if report.run_id:
            out.print(
                f"[dim]Pipeline run {report.run_id[:8]}: keel runs list --filter \"attributes.parent_id = '{report.run_id}'\"[/dim]"
            )
    if not report.ok:
        sys.exit(1)


def _print_sweep(result: Any, sort_key: str | None) -> None:
    out = console()
    rows = result.rows(sort_key)
    keys = [k for k in result.grid]
    metric_names = sorted({m for row in rows for m in row["metrics"]})
    table = new_table("run", *keys, *[f"metrics.{m}" for m in metric_names], "status", title="Sweep")
    for row in rows:
        table.add_row(
            (row["run_id"] or "")[:8],
            *[escape(fmt_value(row["overrides"].get(k))) for k in keys],
            *[fmt_value(row["metrics"].get(m)) for m in metric_names],
            "ok" if row["ok"] else "[red]failed[/red]",
        )
    out.print(table)
    for row in rows:
        if row.get("error"):
            out.print(f"[red]{(row['run_id'] or '')[:8]} failed at {escape(row['error'])}[/red]")
    out.print(f"[dim]{len(rows)} combination(s); shared stages ran once (the run cache restored them).[/dim]")
