"""What a run ran with, and what differed between two runs: code, data, params, packages,
platform, environment variables and seeds — ``keel env show`` and ``keel env diff``.

Everything comes from what the run recorded (its context, inputs, params and tags); the
package list and the uncommitted diff are objects in the store, read back by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.core.entities import Run
    from keel.tracking.session import Session

SEED_TAG = "keel.seed"


def packages_of(run: Run, session: Session) -> dict[str, str] | None:
    """``{name: version}`` of the distributions the run's process had, or None if not recorded."""
    info = run.context.get("packages") or {}
    oid = info.get("oid") if isinstance(info, dict) else None
    if not oid or not session.objects.exists(oid):
        return None
    found = {}
    for line in session.objects.read_bytes(oid).decode("utf-8", "replace").splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[name] = version
    return found


def environment(run: Run, session: Session) -> dict[str, Any]:
    """One run's environment, as ``keel env show`` prints it."""
    context = run.context
    git = context.get("git") or {}
    packages = packages_of(run, session)
    return {
        "run": run.id,
        "kind": run.kind,
        "status": run.status,
        "code": {
            "commit": git.get("commit"),
            "branch": git.get("branch"),
            "dirty": git.get("dirty"),
            "diff": git.get("diff"),
            "diff_bytes": git.get("diff_bytes"),
            "note": git.get("diff_note") or git.get("note"),
            "untracked": git.get("untracked_count", 0),
        },
        "command": context.get("command"),
        "data": {d.path: d.oid for d in run.inputs},
        "outputs": {d.path: d.oid for d in run.outputs},
        "params": dict(run.params),
        "seed": run.tags.get(SEED_TAG),
        "python": context.get("python"),
        "platform": context.get("platform"),
        "cpu": context.get("cpu"),
        "gpus": context.get("gpus"),
        "env": context.get("env"),
        "packages": len(packages) if packages is not None else None,
    }


@dataclass
class EnvDiff:
    """The differences between two runs, by section; empty sections mean "the same"."""

    a: str
    b: str
    sections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def same(self) -> bool:
        return not any(self.sections.values())

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "same": self.same, "sections": self.sections}


def _changes(a: dict[str, Any], b: dict[str, Any], what: str) -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in b:
            out.append(f"{what} {key}: {a[key]} → (absent)")
        elif key not in a:
            out.append(f"{what} {key}: (absent) → {b[key]}")
        elif a[key] != b[key]:
            out.append(f"{what} {key}: {a[key]} → {b[key]}")
    return out


def env_diff(first: Run, second: Run, session: Session) -> EnvDiff:
    """What differed between ``first`` and ``second``: code, data, params, packages,
    platform, environment variables and seeds."""
    a, b = environment(first, session), environment(second, session)
    result = EnvDiff(first.id, second.id)
    code = []
    if a["code"]["commit"] != b["code"]["commit"]:
        code.append(f"commit: {a['code']['commit']} → {b['code']['commit']}")
        code += _commit_stat(session, a["code"]["commit"], b["code"]["commit"])
    if a["code"]["diff"] != b["code"]["diff"]:
        code.append(
            f"uncommitted changes: {a['code']['diff_bytes'] or 0} → {b['code']['diff_bytes'] or 0} bytes "
            "of diff (keel env show RUN --diff prints one)"
        )
    if a["command"] != b["command"]:
        code.append(f"command: {a['command']} → {b['command']}")
    result.sections["code"] = code
    result.sections["data"] = _changes(a["data"], b["data"], "input")
    result.sections["params"] = _changes(a["params"], b["params"], "param")
    pa, pb = packages_of(first, session), packages_of(second, session)
    if pa is None or pb is None:
        result.sections["packages"] = [] if pa == pb else ["package list recorded for only one of the runs"]
    else:
        result.sections["packages"] = _changes(pa, pb, "package")
    platform_changes = []
    for key in ("python", "platform", "cpu", "gpus"):
        if a[key] != b[key]:
            platform_changes.append(f"{key}: {a[key]} → {b[key]}")
    result.sections["platform"] = platform_changes
    result.sections["env"] = _changes(a["env"] or {}, b["env"] or {}, "variable")
    result.sections["seeds"] = [] if a["seed"] == b["seed"] else [f"keel.seed: {a['seed']} → {b['seed']}"]
    return result


def _commit_stat(session: Session, a: str | None, b: str | None) -> list[str]:
    """``git diff --stat A B`` in the project, when both commits are there."""
    from keel.tracking.context import run_git

    if not a or not b:
        return []
    done = run_git(session.workspace.root, "diff", "--stat", a, b)
    if done is None:
        return []
    if done.returncode != 0:
        return ["(the commits are not in this repository: no file list)"]
    text = done.stdout.decode("utf-8", "replace")
    return ["  " + line.strip() for line in text.splitlines() if line.strip()]
