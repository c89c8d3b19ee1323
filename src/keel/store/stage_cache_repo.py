"""The run cache of pipeline stages: cache key → output versions."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from keel.store.schema import stage_cache

if TYPE_CHECKING:
    from keel.store.database import Database


def lookup(db: Database, key: str) -> dict[str, Any] | None:
    """The outputs an earlier execution with this key produced, or None."""
    with db.read() as conn:
        row = conn.execute(
            select(stage_cache.c.outs, stage_cache.c.run_id).where(stage_cache.c.key == key)
        ).first()
    if row is None:
        return None
    return {"outs": json.loads(row.outs), "run_id": row.run_id}


def remember(db: Database, key: str, stage: str, outs: dict[str, Any], run_id: str | None) -> None:
    """Record an execution's outputs (the first execution with a key stays the reference:
    inserting a key that exists fails, and is ignored)."""
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    try:
        with db.write() as conn:
            conn.execute(
                stage_cache.insert().values(
                    key=key,
                    stage=stage,
                    outs=json.dumps(outs, sort_keys=True),
                    run_id=run_id,
                    created_at=time.time(),
                )
            )
    except SAIntegrityError:
        pass  # recorded before (--force, or another process): identical inputs, either is fine
