"""``keel data status``: what changed in tracked data since keel.lock recorded it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import NotFound
from keel.data.context import DataContext
from keel.data.lockfile import LockFile, TrackedPath, read_lock
from keel.data.paths import project_path
from keel.objects.snapshot import fingerprint, identify, scan
from keel.objects.trees import TreeEntry


@dataclass
class PathStatus:
    path: str
    state: str  # unchanged, modified, missing, not_local (recorded objects not in the store)
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "state": self.state,
            "added": self.added,
            "modified": self.modified,
            "deleted": self.deleted,
        }


def recorded_files(ctx: DataContext, tracked: TrackedPath) -> dict[str, TreeEntry]:
    """The files a version holds (rel → entry; "" for a tracked file)."""
    if tracked.kind == "file":
        return {"": TreeEntry(Path(tracked.path).name, "file", tracked.oid, tracked.size)}
    if not ctx.store.exists(tracked.oid):
        raise NotFound(
            f"The listing of {tracked.path} ({tracked.oid[:12]}…) is not in the local store; "
            "run `keel pull` to fetch it."
        )
    return dict(ctx.trees.walk_files(tracked.oid))


def selected(ctx: DataContext, user_paths: list[str] | None, cwd: Path | None = None) -> list[TrackedPath]:
    """The tracked paths (data and pipeline outputs) named by ``user_paths`` (all when None)."""
    return pick(ctx, read_lock(ctx.root), user_paths, cwd)


def pick(
    ctx: DataContext, lock: LockFile, user_paths: list[str] | None, cwd: Path | None = None
) -> list[TrackedPath]:
    """The versions ``lock`` records for ``user_paths`` (all of them when None)."""
    versions = lock.versions()
    if not user_paths:
        return [versions[p] for p in sorted(versions)]
    chosen = []
    for user_path in user_paths:
        rel = project_path(ctx.root, user_path, cwd)
        if rel not in versions:
            tracked = ", ".join(sorted(versions)) or "nothing yet"
            raise NotFound(f"{rel} is not tracked (tracked: {tracked}); add it with `keel data add {rel}`.")
        chosen.append(versions[rel])
    return chosen


def path_status(ctx: DataContext, tracked: TrackedPath) -> PathStatus:
    target = ctx.root / tracked.path
    if not target.exists() and not target.is_symlink():
        return PathStatus(tracked.path, "missing")
    found = scan(target)
    seen = fingerprint(found)
    if ctx.cache.path_state(tracked.path) == (seen, tracked.oid):
        return PathStatus(tracked.path, "unchanged")  # same files, same stats, as last seen intact
    try:
        recorded = recorded_files(ctx, tracked)
    except NotFound:
        return PathStatus(tracked.path, "not_local")
    if (found.kind == "file") != (tracked.kind == "file"):
        return PathStatus(tracked.path, "modified", modified=[""])
    current = identify(found.files, tracked.path, ctx.cache, None, ctx.jobs)
    status = PathStatus(tracked.path, "unchanged")
    for rel, oid in current.items():
        entry = recorded.get(rel)
        if entry is None:
            status.added.append(rel)
        elif entry.oid != oid:
            status.modified.append(rel)
    status.deleted = sorted(rel for rel in recorded if rel not in current)
    if status.added or status.modified or status.deleted:
        status.state = "modified"
    else:
        ctx.cache.set_path_state(tracked.path, seen, tracked.oid)
    return status


def data_status(
    ctx: DataContext, user_paths: list[str] | None = None, cwd: Path | None = None
) -> list[PathStatus]:
    return [path_status(ctx, tracked) for tracked in selected(ctx, user_paths, cwd)]
