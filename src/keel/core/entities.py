"""Value objects shared by every layer: experiments, runs, metric points, artifacts (and,
from :mod:`keel.core.values`, run statuses and kinds and dataset versions)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from keel.core.values import DatasetVersion, RunKind, RunStatus, json_number, to_datetime

__all__ = [
    "Artifact",
    "DatasetVersion",
    "Experiment",
    "MetricPoint",
    "Run",
    "RunDataset",
    "RunKind",
    "RunStatus",
    "json_number",
    "to_datetime",
]


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
class RunDataset:
    """A dataset version a run read (``input``) or wrote (``output``)."""

    direction: str
    path: str
    oid: str
    kind: str
    size: int
    files: int
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "path": self.path,
            "oid": self.oid,
            "kind": self.kind,
            "size": self.size,
            "files": self.files,
            "rows": self.rows,
        }


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
    #: the captured context as stored (JSON text); parsed on first access of ``context``
    context_json: str = field(default="{}", repr=False)
    artifacts: tuple[Artifact, ...] = ()
    deleted: bool = False
    datasets: tuple[RunDataset, ...] = ()

    @cached_property
    def context(self) -> dict[str, Any]:
        """Where the run ran: git, command, Python, platform, host, packages (docs/tracking.md)."""
        try:
            value = json.loads(self.context_json)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def inputs(self) -> tuple[RunDataset, ...]:
        return tuple(d for d in self.datasets if d.direction == "input")

    @property
    def outputs(self) -> tuple[RunDataset, ...]:
        return tuple(d for d in self.datasets if d.direction == "output")

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
            "inputs": [d.to_dict() for d in self.inputs],
            "outputs": [d.to_dict() for d in self.outputs],
            "deleted": self.deleted,
        }
