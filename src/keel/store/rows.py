"""Plain row shapes of the tables the tracking writer fills, without SQLAlchemy.

Recording a run (a pipeline stage, ``keel track``) builds rows as dicts and tuples and writes
them through a DB-API cursor (:mod:`keel.store.write_batch`), so that path never imports
SQLAlchemy (0.15–0.2 s). The names here mirror :mod:`keel.store.schema`; a test checks that
the two agree.
"""

from __future__ import annotations

import time
from typing import Any

#: Length of the indexed ``*_head`` twin of long text columns.
HEAD_LENGTH = 200

#: The columns of ``runs``, in table order.
RUN_COLUMNS = (
    "id",
    "experiment_id",
    "name",
    "kind",
    "status",
    "parent_id",
    "start_time",
    "end_time",
    "username",
    "host",
    "pid",
    "pid_start",
    "deleted_at",
    "context",
    "summary",
)


def run_row(run_id: str, experiment: int, **values: Any) -> dict[str, Any]:
    """A complete ``runs`` row with defaults for the optional columns."""
    row: dict[str, Any] = {
        "id": run_id,
        "experiment_id": experiment,
        "name": None,
        "kind": "run",
        "status": "running",
        "parent_id": None,
        "start_time": time.time(),
        "end_time": None,
        "username": None,
        "host": None,
        "pid": None,
        "pid_start": None,
        "deleted_at": None,
        "context": "{}",
        "summary": None,
    }
    row.update(values)
    return row
