"""Checks listed under a pipeline stage's ``checks:``, run after its command succeeded.

A data check validates a path (usually one of the stage's outputs) against a schema; a
model check evaluates the version of a model that the stage's run registered. Each is
recorded as a check run under the stage's run. The runner stops the pipeline when a check
with severity ``fail`` (the default) fails; ``warn`` checks are reported and it goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.checks.results import CheckReport
    from keel.core.workspace import Workspace


@dataclass(frozen=True)
class StageCheck:
    kind: str  # "data" or "model"
    target: str  # a project-relative data path, or a model name
    spec: str  # the project-relative schema or spec file
    severity: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        return {
            self.kind: self.target,
            "schema" if self.kind == "data" else "spec": self.spec,
            "severity": self.severity,
        }


@dataclass
class StageCheckOutcome:
    check: StageCheck
    report: CheckReport | None
    problem: str | None = None  # why it could not run

    @property
    def passed(self) -> bool:
        return self.problem is None and self.report is not None and self.report.passed

    @property
    def stops(self) -> bool:
        return not self.passed and self.check.severity == "fail"

    def message(self) -> str:
        if self.problem is not None:
            return f"check {self.check.spec}: {self.problem}"
        assert self.report is not None
        problems = self.report.failures or self.report.warnings
        detail = f": {problems[0].message}" if problems else ""
        more = len(self.report.failures) + len(self.report.warnings) - 1
        tail = f" (and {more} more)" if more > 0 else ""
        status = self.report.status
        if status == "failed" and self.check.severity == "warn":
            status = "warned"  # the stage's severity: warn turns its failures into warnings
        return f"check {self.check.spec} {status}{detail}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.check.to_dict(),
            "status": "error"
            if self.problem is not None
            else (self.report.status if self.report else "error"),
            "run_id": self.report.run_id if self.report is not None else None,
            "message": self.message(),
        }


def run_stage_check(
    workspace: Workspace, check: StageCheck, stage_run_id: str, experiment: str | None
) -> StageCheckOutcome:
    from keel.checks.data_api import check_data
    from keel.checks.model_check import check_model
    from keel.core.errors import KeelError

    try:
        if check.kind == "data":
            report = check_data(
                workspace.root / check.target,
                workspace.root / check.spec,
                record=True,
                parent_id=stage_run_id,
                experiment=experiment,
                workspace=workspace,
            )
        else:
            version = _registered_by(workspace, check.target, stage_run_id)
            if version is None:
                return StageCheckOutcome(
                    check,
                    None,
                    f"the stage did not register a version of model {check.target!r} (keel.log_model)",
                )
            report = check_model(
                f"{check.target}/{version}",
                workspace.root / check.spec,
                parent_id=stage_run_id,
                experiment=experiment,
                workspace=workspace,
            )
    except KeelError as exc:
        return StageCheckOutcome(check, None, exc.message)
    except Exception as exc:  # noqa: BLE001 - a check must not take the pipeline down with a traceback
        return StageCheckOutcome(check, None, f"the check could not run: {type(exc).__name__}: {exc}")
    return StageCheckOutcome(check, report)


def _registered_by(workspace: Workspace, name: str, run_id: str) -> int | None:
    from keel.core.errors import NotFound
    from keel.models.registry import list_versions
    from keel.tracking.session import session_for_workspace

    try:
        versions = list_versions(name, session=session_for_workspace(workspace))
    except NotFound:
        return None
    mine = [v.version for v in versions if v.run_id == run_id]
    return max(mine) if mine else None
