"""``keel monitor …``: drift and quality of what models see, and continuous training."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json

if TYPE_CHECKING:
    from keel.monitor.evaluate import MonitorReport


@click.group()
def monitor() -> None:
    """Monitor models and data: drift, data quality, performance; retrain on rules.

    \b
    keel monitor drift --model wine@production --since 24h --html drift.html
    keel monitor drift --reference data/train.csv@v1 --current data/today.csv
    keel monitor run                 evaluate the monitors: in keel.yaml once (cron)
    keel monitor watch --every 10m   ... and keep doing it
    keel monitor history             what they decided, and why
    """


@monitor.command("drift")
@click.option(
    "--model", "model_ref", help="Monitor this model's traffic (NAME@ALIAS) from its prediction log."
)
@click.option("--current", type=click.Path(path_type=Path), help="The current data (instead of --model).")
@click.option(
    "--reference",
    help="Reference data: a path, or PATH@REV as recorded at a git revision "
    "(default with --model: the model's training data).",
)
@click.option(
    "--since", default="24h", show_default=True, help="With --model: the traffic of this last period."
)
@click.option("--window", help="With --model: also the drift share per window of this length (e.g. 1h).")
@click.option(
    "--html", "html", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report here."
)
@click.option(
    "--test",
    "tests",
    multiple=True,
    metavar="COLUMN=TEST",
    help="Use TEST for COLUMN (ks, wasserstein, psi…).",
)
@click.option(
    "--threshold", "thresholds", multiple=True, metavar="COLUMN=VALUE", help="Drift threshold for COLUMN."
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="COLUMN=KIND",
    help="Treat COLUMN as numeric, categorical, boolean, datetime or text (instead of the inferred kind).",
)
@click.option(
    "--share-threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Dataset drift when at least this share of columns drifted.",
)
@click.option(
    "--fail-on-drift", is_flag=True, help="Exit with status 1 when the dataset drifted (for cron and CI)."
)
@click.option("--no-record", is_flag=True, help="Do not record the evaluation as a monitor run.")
@json_option
def drift(
    model_ref: str | None,
    current: Path | None,
    reference: str | None,
    since: str,
    window: str | None,
    html: Path | None,
    tests: tuple[str, ...],
    thresholds: tuple[str, ...],
    kinds: tuple[str, ...],
    share_threshold: float,
    fail_on_drift: bool,
    no_record: bool,
    as_json: bool,
) -> None:
    """Compare what a model sees (or a table) with its reference: per-column drift with
    the test suited to each column's type and size, dataset drift, data quality (missing
    values, out-of-range numbers, new categories), prediction drift and, when feedback
    labels arrived, performance. See docs/monitoring.md for the tests and thresholds."""
    from keel.cli.options import key_values
    from keel.core.errors import InvalidInput
    from keel.core.workspace import open_workspace
    from keel.monitor.api import DriftOptions, monitor_model, monitor_tables, record_monitor

    if (model_ref is None) == (current is None):
        raise InvalidInput(
            "Give --model NAME@ALIAS (its traffic) or --current DATA (a table), not both or neither."
        )
    if current is not None and reference is None:
        raise InvalidInput("--current needs --reference DATA (what to compare it with).")
    options = DriftOptions(
        tests={k: str(v) for k, v in key_values(tests, "--test").items()} or None,
        thresholds=_floats(key_values(thresholds, "--threshold")) or None,
        share_threshold=share_threshold,
        kinds={k: str(v) for k, v in key_values(kinds, "--kind").items()} or None,
    )
    workspace = open_workspace()
    tags: dict[str, Any] = {}
    if model_ref is not None:
        report, version = monitor_model(
            workspace, model_ref, since=since, window=window, reference=reference, options=options
        )
        params: dict[str, Any] = {"monitor.model": model_ref, "monitor.since": since}
        tags = {"keel.monitor.model_name": version.name, "keel.monitor.version": version.version}
    else:
        assert current is not None and reference is not None
        report = monitor_tables(workspace, reference, current, options=options)
        params = {"monitor.current": str(current), "monitor.reference": reference}
    if html is not None:
        from keel.monitor.report_html import write_html

        write_html(report.to_dict(), html)
    if not no_record:
        tags["keel.monitor.reference"] = report.reference.label[:250]
        run_id = record_monitor(workspace, report, params=params, tags=tags, html=html)
    else:
        run_id = None
    if as_json:
        emit_json({**report.to_dict(), "run_id": run_id})
    else:
        _show(report, run_id, html)
    if fail_on_drift and report.drift.dataset_drift:
        sys.exit(1)


def _floats(values: dict[str, Any]) -> dict[str, float]:
    from keel.core.errors import InvalidInput

    out = {}
    for key, value in values.items():
        try:
            out[key] = float(value)
        except ValueError:
            raise InvalidInput(f"--threshold {key}={value!r}: the threshold must be a number.") from None
    return out


def _show(report: MonitorReport, run_id: str | None, html: Path | None) -> None:
    from keel.cli.render import console, escape, new_table

    out = console()
    drift = report.drift
    verdict = "[red]DRIFT[/]" if drift.dataset_drift else "[green]no dataset drift[/]"
    drifted, tested = drift.drifted, drift.counted
    out.print(
        f"{verdict}: {drifted} of {tested} columns drifted ({drift.drift_share:.0%}; dataset drift at "
        f"{drift.share_threshold:.0%})"
    )
    out.print(f"  reference: {escape(report.reference.label)} ({report.reference.sketch.rows:,} rows)")
    out.print(f"  current:   {escape(report.current_label)}")
    table = new_table("column", "kind", "test", "score", "threshold", "drift")
    for column in sorted(drift.columns, key=_severity):
        if column.skipped is not None:
            table.add_row(
                escape(column.column),
                column.kind,
                "—",
                "—",
                "—",
                f"[dim]skipped: {escape(column.skipped)}[/]",
            )
            continue
        table.add_row(
            escape(column.column),
            column.kind,
            str(column.test),
            _number(column.score),
            _number(column.threshold),
            "[red]drift[/]" if column.drifted else "ok",
        )
    out.print(table)
    if report.prediction is not None:
        p = report.prediction
        state = "[red]drift[/]" if p.drifted else "ok"
        out.print(f"  predictions: {p.test} {_number(p.score)} (threshold {_number(p.threshold)}): {state}")
    for finding in report.quality:
        if not finding["passed"]:
            out.print(f"  [yellow]quality[/] {escape(finding['message'])}")
    if report.performance is not None:
        shown = ", ".join(
            f"{name} {_number(pair['current'])}"
            + (f" (reference {_number(pair['reference'])})" if pair.get("reference") is not None else "")
            for name, pair in report.performance["metrics"].items()
        )
        out.print(f"  performance on {report.performance['labelled']:,} labelled rows: {shown}")
    if report.windows:
        shares = " ".join(f"{w['drift_share']:.0%}" for w in report.windows)
        out.print(f"  drift share per window: {shares}")
    if html is not None:
        out.print(f"  [dim]report: {escape(str(html))}[/]")
    if run_id:
        out.print(f"  [dim]recorded as monitor run {run_id[:12]}[/]")


def _severity(column: Any) -> tuple[int, float]:
    if column.skipped is not None:
        return (2, 0.0)
    if column.score is None or column.threshold is None:
        return (1, 0.0)
    ratio = (
        column.score / column.threshold
        if column.stat == "distance"
        else column.threshold / max(column.score, 1e-300)
    )
    return (0 if column.drifted else 1, -ratio)


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.3g}"


@monitor.command("run")
@click.argument("names", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Evaluate and say what would fire, without acting.")
@json_option
def run_cmd(names: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Evaluate every monitor in keel.yaml (or NAMES) once, and act on those that fire.

    Each evaluation is recorded as a monitor run and each decision (quiet, acted,
    cooldown, dry-run, failed, error) with its reason: see `keel monitor history`. Meant
    for cron; exits 1 when an action or an evaluation failed.
    """
    from keel.core.workspace import open_workspace
    from keel.monitor.watch import run_monitors

    workspace = open_workspace()
    say = (lambda _: None) if as_json else click.echo
    decisions = run_monitors(workspace, list(names) or None, dry_run=dry_run, say=say)
    if as_json:
        emit_json([d.to_dict() for d in decisions])
    else:
        if not decisions:
            click.echo("No monitors in keel.yaml (see docs/monitoring.md).")
        for decision in decisions:
            click.echo(f"{decision.monitor} ({decision.model}): {decision.outcome} — {decision.reason}")
            for line in decision.actions:
                click.echo(f"  {line}")
    if any(d.outcome in ("failed", "error") for d in decisions):
        sys.exit(1)


@monitor.command("watch")
@click.argument("names", nargs=-1)
@click.option("--every", default="10m", show_default=True, help="How often to evaluate (e.g. 30s, 10m, 1h).")
@click.option(
    "--times", type=click.IntRange(1, None), help="Stop after this many rounds (default: until Ctrl-C)."
)
def watch_cmd(names: tuple[str, ...], every: str, times: int | None) -> None:
    """Evaluate the monitors every --every, acting on those that fire (Ctrl-C stops)."""
    from keel.core.durations import parse_duration
    from keel.core.workspace import open_workspace
    from keel.monitor.watch import watch

    seconds = parse_duration(every, "--every")
    workspace = open_workspace()
    try:
        watch(workspace, seconds, names=list(names) or None, times=times, say=click.echo)
    except KeyboardInterrupt:
        click.echo("stopped")


@monitor.command("history")
@click.argument("name", required=False)
@click.option(
    "-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Rows to show."
)
@json_option
def history(name: str | None, limit: int, as_json: bool) -> None:
    """What the monitors decided, newest first: fired or not, the outcome and the reason."""
    from datetime import UTC, datetime

    from keel.cli.render import console, escape, fmt_time, new_table, short_id
    from keel.core.workspace import open_workspace
    from keel.store.monitor_repo import events
    from keel.tracking.session import session_for_workspace

    session = session_for_workspace(open_workspace())
    with session.db.read() as conn:
        found = events(conn, name, limit)
    if as_json:
        emit_json([e.to_dict() for e in found])
        return
    table = new_table("when", "monitor", "fired", "outcome", "reason", "run")
    for event in found:
        table.add_row(
            fmt_time(datetime.fromtimestamp(event.at, tz=UTC)),
            escape(event.monitor),
            "yes" if event.fired else "",
            event.outcome,
            escape(event.reason),
            short_id(event.run_id),
        )
    console().print(table)
