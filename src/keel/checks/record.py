"""Recording a check: a run of kind ``check`` linked to what it checked, plus a result row.

The run holds the spec and subject as params, the measured figures and failure counts as
metrics, the whole report as ``check-report.json``, and the checked dataset version as an
input; it ends ``failed`` when the check failed. The ``check_results`` row (spec path and
content hash, subject and its id, status) is what the promotion gate and ``keel check
history`` read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.checks.results import CheckReport
from keel.core.hashing import hash_bytes

if TYPE_CHECKING:
    from keel.core.entities import DatasetVersion
    from keel.core.workspace import Workspace
    from keel.tracking.session import Session

CHECKS_EXPERIMENT = "checks"


@dataclass(frozen=True)
class SpecFile:
    """A schema or model-check file as recorded: its project-relative path and content hash."""

    label: str
    hash: str

    @classmethod
    def of(cls, path: Path, root: Path | None) -> SpecFile:
        label = str(path)
        if root is not None:
            try:
                label = Path(os.path.normpath(path.absolute())).relative_to(root).as_posix()
            except ValueError:
                pass
        return cls(label, hash_bytes(path.read_bytes()))


def record_report(
    workspace: Workspace,
    report: CheckReport,
    spec: SpecFile,
    *,
    dataset: DatasetVersion | None = None,
    tags: dict[str, Any] | None = None,
    parent_id: str | None = None,
    experiment: str | None = None,
    session: Session | None = None,
) -> str:
    """Record ``report`` as a check run; return the run id (also set on the report)."""
    from keel.core.entities import RunStatus
    from keel.store.check_repo import add_result
    from keel.tracking.recorder import open_run
    from keel.tracking.session import session_for_workspace

    session = session or session_for_workspace(workspace)
    run = open_run(
        session,
        experiment=experiment or CHECKS_EXPERIMENT,
        name=f"check {Path(spec.label).name}",
        params={"check.kind": report.kind, "check.spec": spec.label, "check.subject": report.subject},
        tags={"keel.check.status": report.status, "keel.check.spec_hash": spec.hash[:16], **(tags or {})},
        parent_id=parent_id,
        kind="check",
    )
    report.run_id = run.id
    if dataset is not None:
        run.log_input(dataset)
    metrics = {f"check.{k}": v for k, v in report.measured.items()}
    metrics.update({"check.failed": len(report.failures), "check.warned": len(report.warnings)})
    run.log_metrics(metrics)
    run.log_dict(report.to_dict(), "check-report.json")
    run.end(RunStatus.FINISHED.value if report.passed else RunStatus.FAILED.value)
    session.flush()
    add_result(
        session.db,
        run_id=run.id,
        kind=report.kind,
        spec=spec.label,
        spec_hash=spec.hash,
        subject=report.subject,
        subject_id=report.subject_id,
        status=report.status,
        failed=len(report.failures),
        warned=len(report.warnings),
        report=report.to_dict(),
    )
    return run.id
