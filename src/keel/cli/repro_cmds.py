"""``keel reproduce`` and ``keel env …``: make a run again; see what differed between runs."""

from __future__ import annotations

import sys

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json


@click.command()
@click.argument("run_id")
@click.option(
    "--env",
    "env",
    type=click.Choice(["current", "venv"]),
    default="current",
    show_default=True,
    help="Run in this environment (differences listed), or a fresh virtualenv with the recorded versions.",
)
@click.option(
    "--rtol",
    type=click.FloatRange(0, None),
    default=1e-6,
    show_default=True,
    help="Relative tolerance for metrics.",
)
@click.option(
    "--atol",
    type=click.FloatRange(0, None),
    default=0.0,
    show_default=True,
    help="Absolute tolerance for metrics.",
)
@click.option(
    "--keep", is_flag=True, help="Keep the scratch folder (worktree, outputs) and print where it is."
)
@click.option(
    "--twice", is_flag=True, help="Reproduce it twice, to tell non-determinism from a changed environment."
)
@json_option
def reproduce(
    run_id: str, env: str, rtol: float, atol: float, keep: bool, twice: bool, as_json: bool
) -> None:
    """Make run RUN_ID again, and say whether the result is the same.

    \b
    Restores the code (a scratch git worktree at the recorded commit, with the recorded
    uncommitted diff), the inputs by content id (from the local store or the remote), the
    params and captured environment variables; reruns the pipeline stage, `keel track`
    command or script; compares outputs by id and metrics within --rtol/--atol.
    Verdict: identical, within tolerance, or differs (exit status 1). The reproduction is
    a run tagged keel.reproduces=RUN_ID.
    """
    from keel.core.workspace import open_workspace
    from keel.repro.reproduce import DIFFERS
    from keel.repro.reproduce import reproduce as run_reproduction

    say = (lambda _: None) if as_json else (lambda line: click.echo(f"  {line}"))
    report = run_reproduction(
        open_workspace(), run_id, env=env, rtol=rtol, atol=atol, keep=keep, twice=twice, say=say
    )
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(f"{report.verdict.upper()}: reproduction of run {report.run_id[:12]}")
        for item in report.items:
            mark = {"identical": "=", "within tolerance": "≈", "differs": "≠"}[item.verdict]
            click.echo(f"  {mark} {item.kind} {item.name}: {item.original} → {item.reproduced}")
        if report.deterministic is not None:
            click.echo(
                "  deterministic: " + ("yes, both reproductions agree" if report.deterministic else "NO")
            )
            for line in report.disagreements:
                click.echo(f"    {line}")
        for line in report.packages[:20]:
            click.echo(f"  package {line}")
        if len(report.packages) > 20:
            click.echo(f"  … and {len(report.packages) - 20} more package differences (--json lists all)")
        for note in report.notes:
            click.echo(f"  note: {note}")
        click.echo(f"  reproduction run(s): {', '.join(r[:12] for r in report.reproductions)}")
        if report.workdir:
            click.echo(f"  kept in {report.workdir}")
    if report.verdict == DIFFERS or report.deterministic is False:
        sys.exit(1)


@click.group()
def env() -> None:
    """The environment of runs: what one ran with, what differed between two."""


@env.command("show")
@click.argument("run_id")
@click.option("--diff", "show_diff", is_flag=True, help="Also print the recorded uncommitted diff.")
@json_option
def env_show(run_id: str, show_diff: bool, as_json: bool) -> None:
    """Code, command, data, params, seed, Python, platform, CPU/GPU, variables and packages of RUN_ID."""
    from keel.core.workspace import open_workspace
    from keel.repro.environment import environment
    from keel.tracking.queries import get_run
    from keel.tracking.session import session_for_workspace

    session = session_for_workspace(open_workspace())
    run = get_run(run_id, session=session)
    found = environment(run, session)
    if as_json:
        emit_json(found)
    else:
        for key, value in found.items():
            if isinstance(value, dict) and value:
                click.echo(f"{key}:")
                for inner, item in value.items():
                    click.echo(f"  {inner}: {item}")
            else:
                click.echo(f"{key}: {value}")
    diff = found["code"]["diff"]
    if show_diff and diff and session.objects.exists(diff):
        click.echo(session.objects.read_bytes(diff).decode("utf-8", "replace"))


@env.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@json_option
def env_diff_cmd(run_a: str, run_b: str, as_json: bool) -> None:
    """What differed between RUN_A and RUN_B: code, data, params, packages, platform,
    environment variables and seeds."""
    from keel.core.workspace import open_workspace
    from keel.repro.environment import env_diff
    from keel.tracking.queries import get_run
    from keel.tracking.session import session_for_workspace

    session = session_for_workspace(open_workspace())
    result = env_diff(get_run(run_a, session=session), get_run(run_b, session=session), session)
    if as_json:
        emit_json(result.to_dict())
        return
    if result.same:
        click.echo(
            f"Runs {result.a[:12]} and {result.b[:12]} ran with the same code, data, params, packages, platform and seeds."
        )
        return
    for section, lines in result.sections.items():
        if lines:
            click.echo(f"{section}:")
            for line in lines:
                click.echo(f"  {line}")
        else:
            click.echo(f"{section}: same")
