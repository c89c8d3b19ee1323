"""Experiments and run rows: create, resolve ids, change lifecycle, reap dead runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, select, update

from keel.core.entities import Experiment, RunStatus, to_datetime
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import RUN_ID_LENGTH, is_id_prefix
from keel.core.liveness import hostname, is_alive
from keel.store.schema import experiments, runs

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from keel.store.database import Database


def experiment_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(experiments.c.id).where(experiments.c.name == name)).scalar()
    if found is None:
        names = conn.execute(select(experiments.c.name).order_by(experiments.c.name)).scalars().all()
        known = ", ".join(names) if names else "none yet"
        raise NotFound(f"No experiment named {name!r}; experiments: {known}.")
    return int(found)


def list_experiments(conn: Connection) -> list[Experiment]:
    counts = (
        select(
            runs.c.experiment_id,
            func.count().label("n"),
            func.max(runs.c.start_time).label("last"),
        )
        .where(runs.c.deleted_at.is_(None))
        .group_by(runs.c.experiment_id)
        .subquery()
    )
    rows = conn.execute(
        select(experiments, counts.c.n, counts.c.last)
        .outerjoin(counts, counts.c.experiment_id == experiments.c.id)
        .order_by(experiments.c.name)
    ).all()
    out = []
    for row in rows:
        created = to_datetime(row.created_at)
        assert created is not None
        out.append(Experiment(row.id, row.name, created, int(row.n or 0), to_datetime(row.last)))
    return out


def resolve_run_id(conn: Connection, text: str, include_deleted: bool = True) -> str:
    """Turn a run id or a unique prefix of one into the full id."""
    text = text.strip().lower()
    if not is_id_prefix(text):
        raise InvalidInput(
            f"{text!r} is not a run id; run ids are 32 hexadecimal characters (a prefix is enough)."
        )
    where = runs.c.id == text if len(text) == RUN_ID_LENGTH else runs.c.id.like(text + "%")
    query = select(runs.c.id).where(where)
    if not include_deleted:
        query = query.where(runs.c.deleted_at.is_(None))
    found = conn.execute(query.limit(2)).scalars().all()
    if not found:
        raise NotFound(f"No run with id {text!r}; list runs with `keel runs list`.")
    if len(found) > 1:
        raise InvalidInput(f"Run id prefix {text!r} matches several runs; type more characters.")
    return str(found[0])


def run_state(conn: Connection, run_id: str) -> tuple[str, float | None] | None:
    """(status, deleted_at) of a run, or None when it does not exist."""
    row = conn.execute(select(runs.c.status, runs.c.deleted_at).where(runs.c.id == run_id)).first()
    return None if row is None else (str(row.status), row.deleted_at)


def set_deleted(db: Database, run_id: str, deleted: bool) -> None:
    with db.write() as conn:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(deleted_at=time.time() if deleted else None)
        )


def purge_runs(db: Database, run_ids: list[str]) -> None:
    """Remove runs for good (children rows go with them through ON DELETE CASCADE)."""
    with db.write() as conn:
        conn.execute(delete(runs).where(runs.c.id.in_(run_ids)))


def reap_dead_runs(db: Database) -> int:
    """Mark ``running`` runs of this host whose process is gone as ``dead``; return how many."""
    with db.read() as conn:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.pid_start).where(
                and_(runs.c.status == RunStatus.RUNNING.value, runs.c.host == hostname())
            )
        ).all()
    dead = [row.id for row in rows if row.pid is not None and not is_alive(row.pid, row.pid_start)]
    if dead:
        with db.write() as conn:
            conn.execute(
                update(runs)
                .where(and_(runs.c.id.in_(dead), runs.c.status == RunStatus.RUNNING.value))
                .values(status=RunStatus.DEAD.value, end_time=time.time())
            )
    return len(dead)
