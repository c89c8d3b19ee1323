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
    from keel.core.workspace import Workspace
    from keel.tracking.session import Session

CHECKS_DIR = "checks"


def required_specs(workspace: Workspace, name: str, alias: str) -> tuple[list[Path], list[str]]:
    """The spec files guarding ``name@alias``, and the problems of spec files that cannot be
    read and may guard it (a broken spec for another model does not block this one)."""
    from keel.checks.model_spec import load_model_spec
    from keel.core.errors import ConfigError
    from keel.core.yaml_file import safe_load

    guarding, broken = [], []
    for path in sorted((workspace.root / CHECKS_DIR).glob("*.model.yaml")):
        try:
            spec = load_model_spec(path)
        except ConfigError as exc:
            try:
                named = safe_load(path.read_text(encoding="utf-8")).get("model")
            except Exception:  # noqa: BLE001 - unreadable: it may be this model's
                named = None
            if named in (None, name):
                broken.append(f"check file {path.name} cannot be read ({exc.message})")
            continue
        if spec.model == name and alias in spec.required_for:
            guarding.append(path)
    return guarding, broken


def gate_problems(workspace: Workspace, session: Session, name: str, version: int, alias: str) -> list[str]:
    """Why ``name/version`` may not become ``alias`` (empty: it may)."""
    from keel.checks.record import SpecFile
    from keel.store.check_repo import latest_result

    subject = f"{name}/{version}"
    guarding, problems = required_specs(workspace, name, alias)
    for path in guarding:
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
        first = problems[0]
        if " failed on " in first:
            fix = "promote a version that passes it"
        elif first.startswith("check file"):
            fix = "correct the check file"
        else:
            spec = first[len("required check ") :].split(" never ran")[0].split(" changed since")[0]
            fix = f'run `keel check model {name}/{number} --spec "{spec}"`'

        raise Conflict(
            f"{name}/{number} cannot become {alias}: {problems[0]}{more}. To fix: {fix}; "
            'or move it anyway with --force --reason "why".'
        )
    if problems and not (reason or "").strip():
        raise InvalidInput("--force needs --reason saying why the failed or missing checks may be skipped.")
    return registry.set_alias(name, number, alias, reason=reason, session=session, forced=bool(problems))


def newest_good_version(name: str, session: Session | None = None) -> str:
    """``NAME/V`` for the newest version of ``name`` whose run finished (a version registered
    by a stage whose checks then failed is skipped); the newest version when none did."""
    from keel.core.errors import NotFound
    from keel.models import registry
    from keel.tracking.queries import get_run

    session = registry.session_or_default(session)
    versions = sorted(registry.list_versions(name, session=session), key=lambda v: -v.version)
    if not versions:
        raise NotFound(f"Model {name!r} has no versions yet; train and register one (keel.log_model).")
    for version in versions:
        if version.run_id is None:
            return version.ref
        try:
            if get_run(version.run_id, session=session).status == "finished":
                return version.ref
        except NotFound:
            return version.ref
    return versions[0].ref
