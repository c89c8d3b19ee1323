"""The run cache of pipeline stages: cache key → output versions.

Plain SQL on DB-API cursors: a stage that runs records its key without importing SQLAlchemy.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from keel.store.write_batch import sql_text

if TYPE_CHECKING:
    from keel.store.database import Database

_LOOKUP = 'SELECT "outs", "run_id" FROM stage_cache WHERE "key" = ?'
# The first execution with a key stays the reference: a later one (--force, or another
# process with identical inputs) is ignored.
_REMEMBER = (
    'INSERT INTO stage_cache ("key", "stage", "outs", "run_id", "created_at") VALUES (?, ?, ?, ?, ?) '
    'ON CONFLICT ("key") DO NOTHING'
)


def lookup(db: Database, key: str) -> dict[str, Any] | None:
    """The outputs an earlier execution with this key produced, or None."""
    with db.raw_read() as (cursor, style):
        cursor.execute(sql_text(_LOOKUP, style), (key,))
        row = cursor.fetchone()
    if row is None:
        return None
    return {"outs": json.loads(row[0]), "run_id": row[1]}


def remember(db: Database, key: str, stage: str, outs: dict[str, Any], run_id: str | None) -> None:
    """Record an execution's outputs under its key (kept if the key is known already)."""
    with db.raw_write() as (cursor, style):
        cursor.execute(
            sql_text(_REMEMBER, style), (key, stage, json.dumps(outs, sort_keys=True), run_id, time.time())
        )
