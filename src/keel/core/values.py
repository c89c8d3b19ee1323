"""The values every run records and the recording path needs: run statuses and kinds, dataset
versions, timestamps. Kept apart from :mod:`keel.core.entities` (the query results), whose
classes cost a command several milliseconds to create and which recording never needs."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple


class RunStatus(StrEnum):
    """Lifecycle of a run. ``dead``: its process on this host ended without closing it."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"
    DEAD = "dead"

    @classmethod
    def terminal(cls) -> tuple[RunStatus, ...]:
        return (cls.FINISHED, cls.FAILED, cls.KILLED, cls.DEAD)


class RunKind(StrEnum):
    """What made a run. Every record of work is a run, told apart by its kind."""

    RUN = "run"  # keel.start_run() in a script or notebook
    COMMAND = "command"  # keel track -- CMD


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


class DatasetVersion(NamedTuple):
    """A version of tracked data: a file or folder as keel.lock recorded it (at ``rev``)."""

    path: str
    oid: str
    kind: str  # "file" or "dir"
    size: int
    files: int
    rev: str | None = None
    format: str | None = None  # csv, tsv or parquet for a table file
    rows: int | None = None
    schema: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "oid": self.oid,
            "kind": self.kind,
            "size": self.size,
            "files": self.files,
            "rev": self.rev,
            "format": self.format,
            "rows": self.rows,
            "schema": self.schema,
        }


def json_number(value: float) -> float | str:
    """JSON has no NaN or infinity: they travel as the strings "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
