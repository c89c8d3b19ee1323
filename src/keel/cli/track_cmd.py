"""``keel track -- CMD ARGS…``."""

from __future__ import annotations

import sys

import click

from keel.cli.options import key_values


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option("-e", "--experiment", help="Experiment of the run (default: the `experiment` setting).")
@click.option("-n", "--name", help="Name of the run.")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="Log a param (repeatable).")
@click.option("-t", "--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Set a tag (repeatable).")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def track(
    experiment: str | None,
    name: str | None,
    params: tuple[str, ...],
    tags: tuple[str, ...],
    command: tuple[str, ...],
) -> None:
    """Run COMMAND as a tracked run and exit with its exit code.

    The run records the command, its context (git commit and diff, Python, packages, host),
    its output (stdout.log, stderr.log) and its status. A Python script it starts can log
    into the run with keel.log_metric(...) — no start_run needed.

    \b
    Example:
      keel track --experiment churn --name baseline -- python src/train.py --lr 0.1
    """
    from keel.tracking.command import track_command

    result = track_command(
        list(command),
        experiment=experiment,
        name=name,
        params=key_values(params, "--param", parse_json=True),
        tags=key_values(tags, "--tag"),
    )
    click.echo(f"keel: run {result.run_id} {result.status} (exit code {result.exit_code})", err=True)
    sys.exit(result.exit_code)
