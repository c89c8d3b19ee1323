"""``keel quickstart [DIR]``."""

from __future__ import annotations

import time
from pathlib import Path

import click

from keel.cli.render import console, escape, fmt_value, new_table, short_id


@click.command()
@click.argument("directory", default="keel-quickstart", type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="Hide the training script's own output.")
def quickstart(directory: Path, quiet: bool) -> None:
    """Create an example project in DIRECTORY (default: ./keel-quickstart) and run Keel on it.

    It versions scikit-learn's wine data set with `keel data add`, then trains a random
    forest on it three times with different depths, each as a tracked run (params,
    per-step metrics, artifacts, the data version it read, git commit, environment), and
    shows what was recorded and how to explore it. Nothing to start: everything lives in
    DIRECTORY (SQLite metadata store and object store in .keel/).
    """
    from keel.quickstart.runner import EXPERIMENT, run_quickstart
    from keel.tracking.queries import search_runs
    from keel.tracking.session import get_session

    out = console()
    started = time.perf_counter()
    result = run_quickstart(directory, lambda line: out.print(escape(line)), show_output=not quiet)
    session = get_session(result.root)
    recorded = search_runs(experiment=EXPERIMENT, order_by=["metrics.accuracy desc"], session=session)
    table = new_table(
        "run", "name", "status", "max_depth", "accuracy", "f1_macro", "artifacts", title="What Keel recorded"
    )
    for run in recorded:
        table.add_row(
            short_id(run.id),
            escape(run.name or ""),
            run.status,
            fmt_value(run.params.get("max_depth")),
            fmt_value(run.metrics.get("accuracy")),
            fmt_value(run.metrics.get("f1_macro")),
            str(len(run.artifacts)),
        )
    out.print(table)
    best = recorded[0] if recorded else None
    elapsed = time.perf_counter() - started
    out.print(f"Done in {elapsed:.0f} s. The project is in {result.root}")
    if best is None:
        return
    others = " ".join(short_id(r.id) for r in recorded[:3])
    git = best.context.get("git") or {}
    if git.get("commit"):
        out.print(
            f"Each run recorded git commit {git['commit'][:12]}, the command, Python, packages and host."
        )
    if best.inputs:
        used = best.inputs[0]
        out.print(f"…and the data version it read: {escape(used.path)} @ {used.oid[:12]} ({used.rows} rows).")
    out.print("\n[bold]Look at it[/bold]")
    for line in (
        f"cd {result.root}",
        "keel runs list",
        f"keel runs show {short_id(best.id)}",
        f"keel runs compare {others}",
        f"keel runs history {short_id(best.id)} accuracy_by_trees",
        "keel data status",
        'keel runs list --filter "metrics.accuracy > 0.9 and params.max_depth >= 2"',
    ):
        out.print(f"  $ {escape(line)}")
