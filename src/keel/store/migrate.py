"""Schema versions: create or upgrade the store on first open, never race, never downgrade.

The store's revision is read with one query; Alembic is imported only when an upgrade is
due. Upgrades hold a lock — a file lock beside a SQLite database, an advisory lock on
PostgreSQL — and re-read the revision once they hold it, so processes that open a new store
at the same moment migrate it exactly once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from keel.core.errors import SchemaTooNew, StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from keel.store.database import Database

#: Every revision this Keel knows, oldest first; the last is the head.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
HEAD = REVISIONS[-1]
_PG_LOCK_KEY = 0x6B65656C  # "keel"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    """The store's schema revision, or None for an empty store."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def check_known(db: Database, revision: str | None) -> None:
    if revision is not None and revision not in REVISIONS:
        raise SchemaTooNew(
            f"The metadata store {db.label} has schema revision {revision}, newer than this "
            f"Keel knows (up to {HEAD}); upgrade Keel (pip install -U keel) to use it."
        )


def ensure_schema(db: Database, upgrade: bool | None = None) -> str:
    """Bring the store to :data:`HEAD` (when allowed); return the revision it is at."""
    with db.engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
    check_known(db, revision)
    if revision == HEAD:
        return revision
    allowed = db.settings.auto_migrate if upgrade is None else upgrade
    if not allowed:
        state = "is empty" if revision is None else f"is at schema revision {revision}"
        raise StoreUnavailable(
            f"The metadata store {db.label} {state}, this Keel needs {HEAD}; "
            "run `keel db upgrade` (auto_migrate is off)."
        )
    with _migration_lock(db) as conn:
        revision = current_revision(conn)
        check_known(db, revision)
        if revision is None:
            _create_at_head(conn)
        elif revision != HEAD:
            run_migrations(conn)
        if conn.in_transaction():
            conn.commit()
    return HEAD


def _create_at_head(conn: Connection) -> None:
    """An empty store gets the tables as :mod:`keel.store.schema` defines them, stamped at
    :data:`HEAD` — what running every migration produces (a test compares the two), without
    importing Alembic: a new project's first command is a tenth of a second faster."""
    from sqlalchemy import Column, MetaData, String, Table

    from keel.store.schema import metadata

    metadata.create_all(conn)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), primary_key=True),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


def run_migrations(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


@contextmanager
def _migration_lock(db: Database) -> Iterator[Connection]:
    from sqlalchemy import text

    if db.sqlite_path is not None:
        lock_path = db.sqlite_path.with_name(db.sqlite_path.name + ".migrate-lock")
        try:
            lock_file = lock_path.open("a")
        except OSError as exc:
            raise StoreUnavailable(
                f"Cannot create {lock_path} ({exc.strerror}); check that the folder exists and is writable."
            ) from None
        with lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                with db.engine.connect() as conn:
                    yield conn.execution_options(keel_write=True)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        return
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        conn.commit()
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            conn.commit()
