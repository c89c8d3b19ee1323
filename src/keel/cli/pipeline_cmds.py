"""``keel run`` and ``keel dag``."""

from __future__ import annotations

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json


@click.command()
@click.argument("stages", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Run the stages even when nothing changed.")
@click.option("--dry", is_flag=True, help="Only say what would run, and why.")
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 256), help="Stages at once (default: the number of cores)."
)
@click.option(
    "-s",
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=V1,V2",
    help="Sweep a params.yaml key over values (repeatable: the grid of all combinations).",
)
@click.option("--sort", "sort_key", help="Sort a sweep's table by a metric, e.g. -metrics.f1 (descending).")
@click.option(
    "-e", "--experiment", help="Experiment of the pipeline's runs (default: the `experiment` setting)."
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    help="Where stages run: local, dask-local (a LocalCluster) or dask://HOST:PORT.",
)
@json_option
def run(
    stages: tuple[str, ...],
    force: bool,
    dry: bool,
    jobs: int | None,
    sets: tuple[str, ...],
    sort_key: str | None,
    experiment: str | None,
    executor: str,
    as_json: bool,
) -> None:
    """Run the pipeline in keel.yaml (or STAGES and what they depend on), skipping stages
    whose command, dependencies, params and outputs did not change, restoring outputs of
    inputs seen before, and running independent stages at the same time.

    \b
    Examples:
      keel run                          the whole pipeline
      keel run train --dry              what `train` and its upstream would do, and why
      keel run --set train.lr=0.01,0.1 --set train.depth=3,5 --sort -metrics.f1
    """
    from keel.cli.pipeline_run import run_command

    run_command(stages, force, dry, jobs, sets, sort_key, experiment, executor, as_json)


@click.command()
@click.option("--mermaid", "fmt", flag_value="mermaid", help="Print a Mermaid flowchart.")
@click.option("--dot", "fmt", flag_value="dot", help="Print a Graphviz dot graph.")
@json_option
def dag(fmt: str | None, as_json: bool) -> None:
    """The stage graph of keel.yaml: each stage and the stages it waits for."""
    from keel.core.workspace import open_workspace
    from keel.pipeline.graph import ascii_tree, dot, mermaid, topological
    from keel.pipeline.spec import parse_stages

    pipeline = parse_stages(open_workspace())
    if as_json:
        emit_json(
            {
                "stages": [pipeline.stages[n].to_dict() for n in topological(pipeline)],
                "edges": [
                    [parent, name]
                    for name in topological(pipeline)
                    for parent in sorted(pipeline.upstream[name])
                ],
            }
        )
        return
    if fmt == "mermaid":
        click.echo(mermaid(pipeline), nl=False)
    elif fmt == "dot":
        click.echo(dot(pipeline), nl=False)
    elif not pipeline.stages:
        click.echo("No stages in keel.yaml yet; see docs/pipelines.md.")
    else:
        click.echo(ascii_tree(pipeline), nl=False)
