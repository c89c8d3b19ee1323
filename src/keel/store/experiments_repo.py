"""Experiments by name: the one lookup every new run needs, as plain SQL on a DB-API cursor
(no SQLAlchemy on the run-recording path; listing experiments is in :mod:`runs_repo`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from keel.store.write_batch import sql_text

if TYPE_CHECKING:
    from keel.store.database import Database

_FIND = 'SELECT "id" FROM experiments WHERE "name" = ?'
_CREATE = 'INSERT INTO experiments ("name", "created_at") VALUES (?, ?) ON CONFLICT ("name") DO NOTHING'


def get_or_create_experiment(db: Database, name: str) -> int:
    """The id of experiment ``name``, creating it if needed (safe against concurrent creators:
    whoever inserts second finds the first one's row)."""
    with db.raw_read() as (cursor, style):
        cursor.execute(sql_text(_FIND, style), (name,))
        found = cursor.fetchone()
    if found is not None:
        return int(found[0])
    with db.raw_write() as (cursor, style):
        cursor.execute(sql_text(_CREATE, style), (name, time.time()))
        cursor.execute(sql_text(_FIND, style), (name,))
        row = cursor.fetchone()
    return int(row[0])
