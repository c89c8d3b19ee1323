"""``keel quickstart [DIR]``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from keel.cli.render import console, escape, fmt_value, new_table, short_id


@click.command()
@click.argument("directory", default="keel-quickstart", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="Print only the summary, not each step.")
def quickstart(directory: Path, quiet: bool) -> None:
    """Create an example project in DIRECTORY (default: ./keel-quickstart) and run Keel on it.

    It versions scikit-learn's wine data set with `keel data add`, runs a pipeline that
    prepares the data, trains a random forest and evaluates it (every stage a tracked run
    with its params, metrics, data versions and environment), runs it again (nothing
    changed, nothing runs), sweeps the tree depth, registers every trained model, gives the
    best the `production` alias, serves it on a loopback port and sends it the test rows
    (every prediction logged). Nothing to start: everything lives in DIRECTORY (SQLite
    metadata store, object store and prediction log in .keel/).
    """
    from keel.quickstart.runner import run_quickstart

    out = console()
    started = time.perf_counter()
    result = run_quickstart(
        directory, (lambda line: None) if quiet else (lambda line: out.print(escape(line)))
    )
    table = new_table(
        "run", "train.max_depth", "accuracy", "f1_macro", title="Sweep: test accuracy by tree depth"
    )
    for row in result.sweep_rows:
        table.add_row(
            short_id(row["run_id"]),
            fmt_value(row["overrides"].get("train.max_depth")),
            fmt_value(row["metrics"].get("accuracy")),
            fmt_value(row["metrics"].get("f1_macro")),
        )
    out.print(table)
    out.print(f"Done in {time.perf_counter() - started:.0f} s. The project is in {result.root}")
    if result.git_commit:
        out.print(
            f"Every run recorded git commit {result.git_commit[:12]}, the data versions it read and wrote, "
            "its params, metrics, command, Python, packages and host."
        )
    if result.drift_report is not None:
        out.print(f"The drift report is {result.drift_report} (open it in a browser).")
    if result.reproduction:
        out.print(f"Training run {str(result.reproduced_run)[:12]} was reproduced: {result.reproduction}.")
    out.print("\n[bold]Look at it[/bold]")
    import os
    import shutil
    import sys

    here = os.path.dirname(sys.executable)
    found = shutil.which("keel")
    elsewhere = found is None or os.path.dirname(os.path.realpath(found)) != os.path.realpath(here)
    # In a virtualenv (`uv run` puts it on PATH only while it runs), say how to reach it after.
    if elsewhere or sys.prefix != sys.base_prefix:
        out.print(
            f"  $ source {escape(os.path.join(here, 'activate'))}   [dim]# puts this keel on your PATH[/dim]"
        )
    best = result.sweep_rows[0]["run_id"] if result.sweep_rows else result.pipeline_run
    for line in (
        f"cd {result.root}",
        "keel dag",
        "keel runs list",
        f"keel runs list --filter \"attributes.parent_id = '{best}'\"" if best else "keel runs list",
        "keel runs list --filter \"attributes.name = 'evaluate' and metrics.accuracy > 0.9\"",
        "keel data status",
        "keel models lineage wine@production",
        "keel check history",
        "keel monitor history",
        "keel monitor drift --model wine@production --since 1h",
        f"keel env diff {str(result.reproduced_run)[:12]} {str(result.reproduction_run)[:12]}"
        if result.reproduced_run and result.reproduction_run
        else "keel env diff RUN_A RUN_B",
        "keel predictions export wine -o predictions.csv",
        "keel serve wine@production",
        "keel run --set train.n_estimators=20,100 --sort -metrics.accuracy",
    ):
        out.print(f"  $ {escape(line)}")
