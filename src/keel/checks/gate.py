"""The promotion gate: an alias named in a spec's ``required_for`` takes only checked versions.

Model check specs live in the project's ``checks/`` folder (``*.model.yaml``). When a version
of model M is to become alias A, every spec with ``model: M`` and A in ``required_for`` must
have a recorded run on that version, with the spec's current content, that did not fail.
``force=True`` moves the alias anyway; it needs a reason, and the move is recorded as forced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from keel.core.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from keel.checks.model_spec import ModelSpec
    from keel.core.workspace import Workspace
    from keel.tracking.session import Session

CHECKS_DIR = "checks"


def model_specs(workspace: Workspace) -> list[tuple[Path, ModelSpec]]:
    """Every model check spec of the project (``checks/*.model.yaml``), parsed."""
    from keel.checks.model_spec import load_model_spec

    folder = workspace.root / CHECKS_DIR
    return [(path, load_model_spec(path)) for path in sorted(folder.glob("*.model.yaml"))]


def required_specs(workspace: Workspace, name: str, alias: str) -> list[tuple[Path, ModelSpec]]:
    return [(p, s) for p, s in model_specs(workspace) if s.model == name and alias in s.required_for]


def gate_problems(workspace: Workspace, session: Session, name: str, version: int, alias: str) -> list[str]:
    """Why ``name/version`` may not become ``alias`` (empty: it may)."""
    from keel.checks.record import SpecFile
    from keel.store.check_repo import latest_result

    problems = []
    subject = f"{name}/{version}"
    for path, _ in required_specs(workspace, name, alias):
        spec = SpecFile.of(path, workspace.root)
        with session.db.read() as conn:
            found = latest_result(conn, subject, spec.label)
        if found is None:
            problems.append(f"required check {spec.label} never ran on {subject}")
        elif found.spec_hash != spec.hash:
            problems.append(f"required check {spec.label} changed since it last ran on {subject}")
        elif found.status == "failed":
            problems.append(
                f"required check {spec.label} failed on {subject} (check run {found.run_id[:12]})"
            )
    return problems


def promote(
    name: str,
    version: int | str,
    alias: str,
    *,
    force: bool = False,
    reason: str | None = None,
    session: Session | None = None,
) -> int | None:
    """Point ``alias`` at ``name``'s ``version`` once its required checks passed; return the
    version the alias left. ``force`` (with a ``reason``) overrides failed or missing checks."""
    from keel.core.models import check_alias, check_model_name, check_version
    from keel.models import registry

    session = registry.session_or_default(session)
    name, alias, number = check_model_name(name), check_alias(alias), check_version(version)
    registry.get_model_version(f"{name}/{number}", session=session)  # an unknown version says so first
    problems = gate_problems(session.workspace, session, name, number, alias)
    if problems and not force:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        spec = problems[0].split()[2]
        fix = (
            "promote a version that passes it"
            if " failed on " in problems[0]
            else f"run `keel check model {name}/{number} --spec {spec}`"
        )
        raise Conflict(
            f"{name}/{number} cannot become {alias}: {problems[0]}{more}. To fix: {fix}; "
            'or move it anyway with --force --reason "why".'
        )
    if problems and not (reason or "").strip():
        raise InvalidInput("--force needs --reason saying why the failed or missing checks may be skipped.")
    return registry.set_alias(name, number, alias, reason=reason, session=session, forced=bool(problems))
