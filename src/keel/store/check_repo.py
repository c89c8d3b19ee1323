"""Check results: one row per check run, looked up by what was checked and with which spec."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from keel.store.schema import check_results

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from keel.store.database import Database


@dataclass(frozen=True)
class CheckRecord:
    run_id: str
    kind: str
    spec: str
    spec_hash: str
    subject: str
    subject_id: str | None
    status: str
    failed: int
    warned: int
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def add_result(
    db: Database,
    *,
    run_id: str,
    kind: str,
    spec: str,
    spec_hash: str,
    subject: str,
    subject_id: str | None,
    status: str,
    failed: int,
    warned: int,
    report: dict[str, Any],
) -> None:
    with db.write() as conn:
        conn.execute(
            check_results.insert().values(
                run_id=run_id,
                kind=kind,
                spec=spec,
                spec_hash=spec_hash,
                subject=subject,
                subject_id=subject_id,
                status=status,
                failed=failed,
                warned=warned,
                created_at=time.time(),
                report=json.dumps(report, sort_keys=True, default=str),
            )
        )


def _record(row: Any) -> CheckRecord:
    return CheckRecord(
        row.run_id,
        row.kind,
        row.spec,
        row.spec_hash,
        row.subject,
        row.subject_id,
        row.status,
        int(row.failed),
        int(row.warned),
        float(row.created_at),
    )


_COLUMNS = [c for c in check_results.c if c.name != "report"]


def latest_result(conn: Connection, subject: str, spec: str) -> CheckRecord | None:
    """The newest result of ``spec`` on ``subject``, or None."""
    row = conn.execute(
        select(*_COLUMNS)
        .where(check_results.c.subject == subject, check_results.c.spec == spec)
        .order_by(check_results.c.created_at.desc())
        .limit(1)
    ).first()
    return None if row is None else _record(row)


def list_results(conn: Connection, subject: str | None = None, limit: int = 50) -> list[CheckRecord]:
    query = select(*_COLUMNS)
    if subject is not None:
        query = query.where(check_results.c.subject == subject)
    rows = conn.execute(query.order_by(check_results.c.created_at.desc()).limit(limit))
    return [_record(row) for row in rows]


def result_report(conn: Connection, run_id: str) -> dict[str, Any] | None:
    text = conn.execute(select(check_results.c.report).where(check_results.c.run_id == run_id)).scalar()
    return None if text is None else dict(json.loads(text))
