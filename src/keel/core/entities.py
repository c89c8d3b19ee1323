"""Value objects shared by every layer: experiments, runs, metric points, artifacts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One logged value of a metric. ``timestamp`` is seconds since the epoch (UTC)."""

    key: str
    value: float
    step: int
    timestamp: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": json_number(self.value),
            "step": self.step,
            "timestamp": self.timestamp,
        }


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file stored with a run: its name in the run, object id and size in bytes."""

    name: str
    oid: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "oid": self.oid, "size": self.size}


@dataclass(frozen=True, slots=True)
class Experiment:
    """A named group of runs."""

    id: int
    name: str
    created: datetime
    run_count: int = 0
    last_run: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created": self.created.isoformat(),
            "run_count": self.run_count,
            "last_run": self.last_run.isoformat() if self.last_run else None,
        }


@dataclass(frozen=True)
class Run:
    """A snapshot of a recorded run, as returned by ``keel.get_run`` and ``keel.search_runs``."""

    id: str
    experiment: str
    name: str | None
    status: str
    kind: str
    parent_id: str | None
    start_time: datetime
    end_time: datetime | None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    artifacts: tuple[Artifact, ...] = ()
    deleted: bool = False

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; None while running."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "experiment": self.experiment,
            "name": self.name,
            "status": self.status,
            "kind": self.kind,
            "parent_id": self.parent_id,
            "start_time": self.start_time.isoformat(),
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "duration": self.duration,
            "params": dict(self.params),
            "metrics": {k: json_number(v) for k, v in self.metrics.items()},
            "tags": dict(self.tags),
            "context": dict(self.context),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "deleted": self.deleted,
        }


def json_number(value: float) -> float | str:
    """JSON has no NaN or infinity: they travel as the strings "NaN", "Infinity", "-Infinity"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
