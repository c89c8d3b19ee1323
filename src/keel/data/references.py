"""Which objects are in use: by keel.lock (now and on every branch and tag) and by runs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from keel.core.errors import IntegrityError
from keel.data.context import DataContext
from keel.data.git_revs import git, lock_at
from keel.data.lockfile import LockFile, TrackedPath, read_lock

if TYPE_CHECKING:
    from keel.store.database import Database

T = TypeVar("T")


@dataclass
class References:
    #: object id → one workspace path that uses it (for messages)
    objects: dict[str, str] = field(default_factory=dict)
    #: tree ids whose listing was not available locally (their contents are unknown)
    unlisted: set[str] = field(default_factory=set)
    #: tree ids whose listing is corrupt (their contents are unknown too)
    corrupt: set[str] = field(default_factory=set)

    def add_version(self, ctx: DataContext, tracked: TrackedPath, label: str = "") -> None:
        where = f"{tracked.path}{label}"
        self.objects.setdefault(tracked.oid, where)
        if tracked.kind != "dir":
            return
        stack = [(tracked.oid, where)]
        while stack:
            oid, prefix = stack.pop()
            if not ctx.store.exists(oid):
                self.unlisted.add(oid)
                continue
            try:
                entries = ctx.trees.get(oid)
            except IntegrityError:
                self.corrupt.add(oid)
                continue
            for entry in entries:
                path = f"{prefix}/{entry.name}"
                if entry.oid not in self.objects:
                    self.objects[entry.oid] = path
                    if entry.kind == "dir":
                        stack.append((entry.oid, path))


def lock_refs(ctx: DataContext) -> list[tuple[str, LockFile]]:
    """keel.lock of the workspace and of every local branch and tag (label, lock)."""
    found = [("workspace", read_lock(ctx.root))]
    listing = git(ctx.root, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/tags")
    if listing.returncode == 0:
        for ref in listing.stdout.split():
            found.append((ref, lock_at(ctx.root, ref)))
    return found


def _from_store(ctx: DataContext, read: Callable[[Database], T]) -> T:
    """``read`` on the project's metadata store, opened for it and closed after."""
    from keel.store.database import Database

    db = Database(ctx.workspace.db_url, ctx.workspace.settings)
    try:
        return read(db)
    finally:
        db.dispose()


def model_packages(ctx: DataContext) -> list[tuple[str, str]]:
    """(package tree id, "model NAME/VERSION") of every registered model version."""
    from keel.store import object_refs

    return _from_store(ctx, object_refs.model_packages)


def run_objects(ctx: DataContext) -> Iterable[tuple[str, str]]:
    """(object id, description) of every object a run refers to: artifacts, diffs, package lists."""
    from keel.store import object_refs

    return _from_store(ctx, lambda db: list(object_refs.run_objects(db)))


def all_references(ctx: DataContext, workspace_only: bool = False) -> References:
    refs = References()
    locks = [("workspace", read_lock(ctx.root))] if workspace_only else lock_refs(ctx)
    for label, lock in locks:
        suffix = "" if label == "workspace" else f"@{label}"
        for tracked in lock.versions().values():
            refs.add_version(ctx, tracked, suffix)
    for oid, where in run_objects(ctx):
        refs.objects.setdefault(oid, where)
    for oid, label in model_packages(ctx):
        refs.add_version(ctx, TrackedPath(label, oid, "dir", 0, 0))
    return refs


def package_versions(ctx: DataContext) -> list[TrackedPath]:
    """Every registered model package, as a folder version `keel push`/`pull` can move."""
    found: dict[str, TrackedPath] = {}
    for oid, label in model_packages(ctx):
        found.setdefault(oid, TrackedPath(label, oid, "dir", 0, 0))
    return list(found.values())


def shared_objects(ctx: DataContext, *, local_only: bool) -> list[TrackedPath]:
    """What `keel push` and `keel pull` share besides tracked data: every registered model
    package (a tree) and every object a run refers to (artifacts, diffs, package lists).
    ``local_only``: only those the local store holds (what can be pushed)."""
    found = [p for p in package_versions(ctx) if not local_only or ctx.store.exists(p.oid)]
    seen = {p.oid for p in found}
    for oid, where in run_objects(ctx):
        if oid not in seen and (not local_only or ctx.store.exists(oid)):
            seen.add(oid)
            found.append(TrackedPath(where, oid, "file", 0, 0))
    return found
