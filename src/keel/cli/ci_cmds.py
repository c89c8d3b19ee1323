"""``keel ci …``: continuous integration for a Keel project."""

from __future__ import annotations

import click


@click.group()
def ci() -> None:
    """Continuous integration: the steps that prove a commit still trains a good model."""


@ci.command("init")
@click.option("--github", is_flag=True, help="Also write .github/workflows/keel.yml (GitHub Actions).")
@click.option("--force", is_flag=True, help="Replace CI files that exist.")
def ci_init(github: bool, force: bool) -> None:
    """Write ci/keel-ci.sh: install, run the tests, keel pull, keel run, keel check all.

    \b
    The script writes JUnit reports to reports/ (tests.xml, checks.xml) and fails at the
    first failing step. Try it locally: bash ci/keel-ci.sh. With --github, a workflow
    runs it on every push and publishes the reports.
    """
    import os

    from keel.core.workspace import open_workspace
    from keel.project.ci import init_ci

    workspace = open_workspace()
    for path in init_ci(workspace.root, github=github, force=force):
        click.echo(f"Wrote {os.path.relpath(path)}")
    click.echo("Run it locally: bash ci/keel-ci.sh")
