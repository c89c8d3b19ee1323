"""``keel db …``: the metadata store's location and schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json

if TYPE_CHECKING:
    from keel.store.database import Database


@click.group()
def db() -> None:
    """Inspect and upgrade the metadata store (SQLite by default, PostgreSQL via KEEL_DB_URL)."""


def _database() -> Database:
    from keel.core.workspace import open_workspace
    from keel.store.database import Database

    workspace = open_workspace()
    if not workspace.settings.db_url:
        workspace.state_dir.mkdir(parents=True, exist_ok=True)
    return Database(workspace.db_url, workspace.settings)


@db.command("status")
@json_option
def status(as_json: bool) -> None:
    """Where the store is, its schema revision and whether it needs an upgrade."""
    from keel.store.migrate import HEAD, check_known, current_revision

    database = _database()
    with database.translate_errors(), database.engine.connect() as conn:
        revision = current_revision(conn)
    info = {
        "url": database.label,
        "dialect": database.dialect,
        "revision": revision,
        "head": HEAD,
        "up_to_date": revision == HEAD,
    }
    if as_json:
        emit_json(info)
    else:
        click.echo(f"store     {info['url']}")
        click.echo(f"revision  {revision or '(empty)'}; this Keel's schema is {HEAD}")
        click.echo("state     up to date" if revision == HEAD else "state     needs `keel db upgrade`")
    check_known(database, revision)


@db.command("upgrade")
def upgrade() -> None:
    """Create or upgrade the store's schema to this Keel's version (safe to run concurrently)."""
    from keel.store.migrate import ensure_schema

    database = _database()
    with database.translate_errors():
        revision = ensure_schema(database, upgrade=True)
    click.echo(f"{database.label} is at schema revision {revision}.")
