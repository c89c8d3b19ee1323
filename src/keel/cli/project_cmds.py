"""``keel init`` and ``keel settings``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from keel.cli.options import json_option
from keel.cli.render import console, emit_json, escape, new_table


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path, file_okay=True))
@click.option("--force", is_flag=True, help="Rewrite keel.yaml and params.yaml of an existing project.")
@click.option("--name", help="Project name (default: the folder's name).")
@json_option
def init(directory: Path, force: bool, name: str | None, as_json: bool) -> None:
    """Create a Keel project in DIRECTORY (default: here).

    Writes keel.yaml and params.yaml, the folders data/{raw,interim,processed}, src/,
    configs/, models/, reports/, tests/, .gitignore entries, and the local state folder .keel/
    with its metadata store (keel.db, unless KEEL_DB_URL names another) and stat cache.
    """
    from keel.project.scaffold import init_project

    result = init_project(directory, force=force, name=name)
    if as_json:
        emit_json({"root": str(result.root), "created": result.created, "updated": result.updated})
        return
    click.echo(f"Initialized a Keel project in {result.root}")
    for item in result.created:
        click.echo(f"  created  {item}")
    for item in result.updated:
        click.echo(f"  updated  {item}")
    click.echo(
        "Next: put your training script in src/ and record it with `keel track -- python src/train.py`"
    )
    click.echo("      (or see the whole loop on an example: `keel quickstart`)")


@click.command()
@json_option
def settings(as_json: bool) -> None:
    """Show every setting, its value, and where the value came from.

    A value comes from the KEEL_<NAME> environment variable, else the `settings:` section of
    keel.yaml, else the default. Outside a project, only the environment and defaults apply.
    """
    import os

    from keel.core.errors import NotFound
    from keel.core.settings import SETTINGS, Settings
    from keel.core.workspace import open_workspace

    try:
        resolved = open_workspace().settings
        root: str | None = None
    except NotFound:
        resolved = Settings.resolve(os.environ)
        root = "(no project here: environment and defaults only)"
    rows: list[dict[str, Any]] = [
        {
            "name": s.name,
            "value": _redacted(resolved.values[s.name]),
            "source": resolved.sources[s.name],
            "env": s.env,
            "help": s.help,
        }
        for s in SETTINGS
    ]
    if as_json:
        emit_json(rows)
        return
    table = new_table("setting", "value", "from", "environment variable")
    for row in rows:
        table.add_row(row["name"], escape(str(row["value"])), row["source"], row["env"])
    out = console()
    if root:
        out.print(f"[dim]{root}[/dim]")
    out.print(table)


def _redacted(value: object) -> object:
    """A setting's value as shown (table and JSON alike): passwords in URLs are masked."""
    if isinstance(value, str) and "://" in value:
        from keel.store.database import redact

        return redact(value)
    return value
