"""Applying a batch of buffered tracking writes in one transaction.

The background writer collects new runs, params, tags, metric points, artifacts and run
ends, and hands them here together. Metric points go in with one ``executemany`` straight to
the driver (the hottest path in Keel); the latest value of each metric is upserted once per
(run, key) per batch, keeping the point with the highest (step, timestamp).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, tuple_, update

from keel.core.errors import Conflict
from keel.store.schema import HEAD_LENGTH, artifacts, latest_metrics, params, runs, tags

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: (run_id, key, step, timestamp, value)
MetricRow = tuple[str, str, int, float, float]
#: (run_id, key, text, number or None, is_string)
ParamRow = tuple[str, str, str, float | None, bool]


@dataclass
class WriteBatch:
    runs: list[dict[str, Any]] = field(default_factory=list)
    params: list[ParamRow] = field(default_factory=list)
    tags: list[tuple[str, str, str]] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    artifacts: list[tuple[str, str, str, int]] = field(default_factory=list)
    #: (run_id, status, end_time)
    ends: list[tuple[str, str, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.runs)
            + len(self.params)
            + len(self.tags)
            + len(self.metrics)
            + len(self.artifacts)
            + len(self.ends)
        )

    def extend(self, other: WriteBatch) -> None:
        self.runs.extend(other.runs)
        self.params.extend(other.params)
        self.tags.extend(other.tags)
        self.metrics.extend(other.metrics)
        self.artifacts.extend(other.artifacts)
        self.ends.extend(other.ends)


def _insert(conn: Connection) -> Any:
    """The dialect's INSERT construct (both support ON CONFLICT … DO UPDATE)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def apply_batch(conn: Connection, batch: WriteBatch) -> list[Conflict]:
    """Write ``batch``; return param conflicts found against values other processes logged."""
    conflicts: list[Conflict] = []
    pending = {row["id"]: row for row in batch.runs}
    late_ends = []
    for run_id, status, end_time in batch.ends:
        row = pending.get(run_id)
        if row is not None:
            row["status"], row["end_time"] = status, end_time
        else:
            late_ends.append((run_id, status, end_time))
    if batch.runs:
        conn.execute(runs.insert(), batch.runs)
    if batch.params:
        conflicts = _write_params(conn, batch.params)
    if batch.tags:
        _write_tags(conn, batch.tags)
    if batch.metrics:
        _write_metrics(conn, batch.metrics)
    if batch.artifacts:
        insert = _insert(conn)
        stmt = insert(artifacts)
        stmt = stmt.on_conflict_do_update(
            index_elements=["run_id", "name"], set_={"oid": stmt.excluded.oid, "size": stmt.excluded.size}
        )
        conn.execute(stmt, [{"run_id": r, "name": n, "oid": o, "size": s} for r, n, o, s in batch.artifacts])
    for run_id, status, end_time in late_ends:
        conn.execute(update(runs).where(runs.c.id == run_id).values(status=status, end_time=end_time))
    return conflicts


def _write_params(conn: Connection, rows: list[ParamRow]) -> list[Conflict]:
    wanted: dict[tuple[str, str], ParamRow] = {}
    conflicts: list[Conflict] = []
    for row in rows:
        previous = wanted.get((row[0], row[1]))
        if previous is not None and previous[2] != row[2]:
            conflicts.append(_param_conflict(row[0], row[1], previous[2], row[2]))
            continue
        wanted[(row[0], row[1])] = row
    existing: dict[tuple[str, str], str] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        found = conn.execute(
            select(params.c.run_id, params.c.key, params.c.value).where(
                tuple_(params.c.run_id, params.c.key).in_(chunk)
            )
        )
        existing.update({(r.run_id, r.key): r.value for r in found})
    new_rows = []
    for pair, (run_id, key, text, number, is_string) in wanted.items():
        old = existing.get(pair)
        if old is None:
            new_rows.append(
                {
                    "run_id": run_id,
                    "key": key,
                    "value": text,
                    "value_head": text[:HEAD_LENGTH],
                    "value_num": number,
                    "is_string": int(is_string),
                }
            )
        elif old != text:
            conflicts.append(_param_conflict(run_id, key, old, text))
    if new_rows:
        conn.execute(params.insert(), new_rows)
    return conflicts


def _param_conflict(run_id: str, key: str, old: str, new: str) -> Conflict:
    return Conflict(
        f"Param '{key}' of run {run_id[:12]} is already {old!r}; it cannot become {new!r} "
        "(params are immutable: log a new run, or use a metric or tag for changing values)."
    )


def _write_tags(conn: Connection, rows: list[tuple[str, str, str]]) -> None:
    latest: dict[tuple[str, str], str] = {}
    for run_id, key, value in rows:
        latest[(run_id, key)] = value
    insert = _insert(conn)
    stmt = insert(tags)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": stmt.excluded.value, "value_head": stmt.excluded.value_head},
    )
    conn.execute(
        stmt,
        [{"run_id": r, "key": k, "value": v, "value_head": v[:HEAD_LENGTH]} for (r, k), v in latest.items()],
    )


def _metric_sql(conn: Connection) -> str:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    marks = ", ".join([mark] * 5)
    return f"INSERT INTO metrics (run_id, key, step, timestamp, value) VALUES ({marks})"


def _write_metrics(conn: Connection, rows: list[MetricRow]) -> None:
    best: dict[tuple[str, str], MetricRow] = {}
    nan_free = True
    for row in rows:
        value = row[4]
        if value != value:  # noqa: PLR0124 - the fastest NaN test
            nan_free = False
        pair = (row[0], row[1])
        current = best.get(pair)
        if current is None or (row[2], row[3]) >= (current[2], current[3]):
            best[pair] = row
    # SQLite cannot store NaN (it becomes NULL): NULL is Keel's stored form of NaN everywhere.
    values = rows if nan_free else [r if r[4] == r[4] else (*r[:4], None) for r in rows]
    conn.exec_driver_sql(_metric_sql(conn), values)
    insert = _insert(conn)
    stmt = insert(latest_metrics)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={
            "step": stmt.excluded.step,
            "timestamp": stmt.excluded.timestamp,
            "value": stmt.excluded.value,
        },
        where=or_(
            stmt.excluded.step > latest_metrics.c.step,
            and_(
                stmt.excluded.step == latest_metrics.c.step,
                stmt.excluded.timestamp >= latest_metrics.c.timestamp,
            ),
        ),
    )
    conn.execute(
        stmt,
        [
            {"run_id": r, "key": k, "step": s, "timestamp": t, "value": None if math.isnan(v) else v}
            for r, k, s, t, v in best.values()
        ],
    )
