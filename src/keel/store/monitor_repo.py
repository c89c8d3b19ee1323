"""Monitoring rows: the cache of reference profiles, and monitor decisions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from keel.store.schema import monitor_events, profiles

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from keel.store.database import Database


def cached_profile(conn: Connection, dataset_oid: str, settings: str) -> str | None:
    """The object id of a dataset version's profile for these settings, or None."""
    return conn.execute(
        select(profiles.c.object_oid).where(
            profiles.c.dataset_oid == dataset_oid, profiles.c.settings == settings
        )
    ).scalar()


def remember_profile(db: Database, dataset_oid: str, settings: str, object_oid: str, rows: int) -> None:
    """Record (or replace: its object may have been collected) a dataset version's profile."""
    from sqlalchemy import delete
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    try:
        with db.write() as conn:
            conn.execute(
                delete(profiles).where(profiles.c.dataset_oid == dataset_oid, profiles.c.settings == settings)
            )
            conn.execute(
                profiles.insert().values(
                    dataset_oid=dataset_oid,
                    settings=settings,
                    object_oid=object_oid,
                    rows=rows,
                    created_at=time.time(),
                )
            )
    except SAIntegrityError:
        pass  # computed by another process meanwhile: the same content


@dataclass(frozen=True)
class MonitorEvent:
    monitor: str
    at: float
    fired: bool
    action: str | None
    outcome: str  # "quiet", "acted", "cooldown", "dry-run", "failed"
    reason: str
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def add_event(db: Database, event: MonitorEvent) -> None:
    with db.write() as conn:
        conn.execute(monitor_events.insert().values(**event.to_dict()))


def last_action(conn: Connection, monitor: str) -> MonitorEvent | None:
    """The newest event of ``monitor`` whose action ran (for its cooldown)."""
    row = conn.execute(
        select(monitor_events)
        .where(monitor_events.c.monitor == monitor, monitor_events.c.outcome.in_(("acted", "failed")))
        .order_by(monitor_events.c.at.desc())
        .limit(1)
    ).first()
    return None if row is None else _event(row)


def events(conn: Connection, monitor: str | None = None, limit: int = 50) -> list[MonitorEvent]:
    query = select(monitor_events)
    if monitor is not None:
        query = query.where(monitor_events.c.monitor == monitor)
    rows = conn.execute(query.order_by(monitor_events.c.at.desc(), monitor_events.c.id.desc()).limit(limit))
    return [_event(row) for row in rows]


def _event(row: Any) -> MonitorEvent:
    return MonitorEvent(
        row.monitor, float(row.at), bool(row.fired), row.action, row.outcome, row.reason, row.run_id
    )
