"""``keel data status``: what changed in tracked data since keel.lock recorded it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import KeelError, NotFound
from keel.data.context import DataContext
from keel.data.lockfile import LockFile, TrackedPath, read_lock
from keel.data.paths import project_path
from keel.objects.snapshot import QuickScan, fingerprint, identify, quick_scan, scan, top_files
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
    """The files a version holds (rel → entry; "" for a tracked file). Read once per command
    (a version's listing never changes); callers must not change the mapping."""
    if tracked.kind == "file":
        return {"": TreeEntry(Path(tracked.path).name, "file", tracked.oid, tracked.size)}
    known = ctx.listings.get(tracked.oid)
    if known is not None:
        return known
    if not ctx.store.exists(tracked.oid):
        raise NotFound(
            f"The listing of {tracked.path} ({tracked.oid[:12]}…) is not in the local store; "
            "run `keel pull` to fetch it."
        )
    files = ctx.listings[tracked.oid] = dict(ctx.trees.walk_files(tracked.oid))
    return files


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
    known = ctx.cache.path_state(tracked.path)
    quick = quick_scan(target) if tracked.kind == "dir" else None
    if quick is not None:
        if known == (quick.fingerprint, tracked.oid):
            return PathStatus(tracked.path, "unchanged")  # same files, same stats, as last seen intact
        by_folder = _status_by_folder(ctx, tracked, quick, target)
        if by_folder is not None:
            return by_folder
    found = scan(target)
    if known == (fingerprint(found), tracked.oid):
        return PathStatus(tracked.path, "unchanged")
    try:
        recorded = recorded_files(ctx, tracked)
    except NotFound:
        return PathStatus(tracked.path, "not_local")
    if (found.kind == "file") != (tracked.kind == "file"):
        return PathStatus(tracked.path, "modified", modified=[""])
    current = identify(found.files, tracked.path, ctx.cache, None, ctx.jobs)
    status = PathStatus(tracked.path, "unchanged")
    _compare(status, "", current, recorded)
    if _settle(status):
        ctx.remember_intact(tracked.path, found.kind, tracked.oid, [(f.rel, f.key) for f in found.files])
    return status


def _compare(
    status: PathStatus, prefix: str, current: dict[str, str], recorded: dict[str, TreeEntry]
) -> None:
    """Add to ``status`` what differs between ``current`` (rel → oid) and ``recorded``."""
    for rel, oid in current.items():
        entry = recorded.get(rel)
        if entry is None:
            status.added.append(prefix + rel)
        elif entry.oid != oid:
            status.modified.append(prefix + rel)
    status.deleted.extend(prefix + rel for rel in recorded if rel not in current)


def _settle(status: PathStatus) -> bool:
    """Sort what ``status`` found and set its state; True when nothing changed."""
    status.added.sort()
    status.modified.sort()
    status.deleted.sort()
    if status.added or status.modified or status.deleted:
        status.state = "modified"
        return False
    return True


#: Files directly in a tracked folder are looked up in the stat cache one by one up to this
#: many; more load the folder's whole stat cache at once.
_ONE_BY_ONE = 256


def _status_by_folder(
    ctx: DataContext, tracked: TrackedPath, quick: QuickScan, target: Path
) -> PathStatus | None:
    """The status of a changed folder, rereading only the subfolders (and the files directly
    in it) whose stats differ from when they were last seen intact; None when the folder's
    listing is not local (the caller decides)."""
    try:
        return _compare_folders(ctx, tracked, quick, target)
    except NotFound:
        return PathStatus(tracked.path, "not_local")  # a tree of the version is not local


def _compare_folders(
    ctx: DataContext, tracked: TrackedPath, quick: QuickScan, target: Path
) -> PathStatus | None:
    try:
        top = ctx.trees.get(tracked.oid)
    except KeelError:
        return None
    entries = {e.name: e for e in top}
    names = set(quick.groups) | {e.name for e in top if e.kind == "dir"}
    if any(e.kind != "dir" for e in top):
        names.add("")
    status = PathStatus(tracked.path, "unchanged")
    intact: list[tuple[str, str, str]] = []
    for name in sorted(names):
        entry = entries.get(name)
        expected = (
            tracked.oid if name == "" else (entry.oid if entry is not None and entry.kind == "dir" else None)
        )
        seen = quick.groups.get(name)
        state_key = f"{tracked.path}/{name}"
        if expected is not None and seen is not None and ctx.cache.path_state(state_key) == (seen, expected):
            continue
        before = len(status.added) + len(status.modified) + len(status.deleted)
        if name == "":
            recorded = {e.name: e for e in top if e.kind != "dir"}
            files = top_files(target)
            if len(files) <= _ONE_BY_ONE:
                current = {}
                for file in files:
                    one = file._replace(rel="")
                    current[file.rel] = identify([one], f"{tracked.path}/{file.rel}", ctx.cache, None, 1)[""]
            else:
                current = identify(files, tracked.path, ctx.cache, None, ctx.jobs)
            _compare(status, "", current, recorded)
        else:
            recorded = dict(ctx.trees.walk_files(expected)) if expected is not None else {}
            folder = target / name
            files = scan(folder).files if folder.is_dir() and not folder.is_symlink() else []
            current = identify(files, state_key, ctx.cache, None, ctx.jobs)
            _compare(status, name + "/", current, recorded)
        if (
            expected is not None
            and seen is not None
            and before == len(status.added) + len(status.modified) + len(status.deleted)
        ):
            intact.append((state_key, seen, expected))
    if _settle(status):
        intact.append((tracked.path, quick.fingerprint, tracked.oid))
    ctx.cache.set_path_states(intact)
    return status


def data_status(
    ctx: DataContext, user_paths: list[str] | None = None, cwd: Path | None = None
) -> list[PathStatus]:
    return [path_status(ctx, tracked) for tracked in selected(ctx, user_paths, cwd)]
