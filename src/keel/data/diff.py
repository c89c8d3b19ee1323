"""``keel data diff``: files added, removed and modified between two versions of tracked
data; for CSV and Parquet tables also schema changes, row counts and column summaries.

Sides: no revision compares keel.lock with the workspace (what `keel data add` would
record); one revision compares that revision's keel.lock with the workspace; two compare
the two revisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.data.context import DataContext
from keel.data.git_revs import lock_at
from keel.data.lockfile import LockFile, read_lock
from keel.data.paths import project_path
from keel.data.status import recorded_files
from keel.data.table_summary import compare, summarize, table_format
from keel.objects.snapshot import identify, scan


@dataclass
class FileChange:
    path: str
    change: str  # added, removed, modified
    old_size: int | None
    new_size: int | None
    table: dict[str, Any] | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DiffReport:
    old: str
    new: str
    changes: list[FileChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        counts = {
            kind: sum(1 for c in self.changes if c.change == kind)
            for kind in ("added", "removed", "modified")
        }
        return {
            "old": self.old,
            "new": self.new,
            "summary": counts,
            "changes": [c.to_dict() for c in self.changes],
        }


# A side maps project-relative file paths to (object id, size, where the bytes are).
Side = dict[str, tuple[str, int, Path | None]]


def _overlaps(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/") or prefix.startswith(path + "/")


def _lock_side(ctx: DataContext, lock: LockFile, prefix: str | None) -> Side:
    side: Side = {}
    for tracked in lock.versions().values():
        if prefix and not _overlaps(tracked.path, prefix):
            continue
        for rel, entry in recorded_files(ctx, tracked).items():
            path = f"{tracked.path}/{rel}" if rel else tracked.path
            side[path] = (
                entry.oid,
                entry.size,
                ctx.store.path(entry.oid) if ctx.store.exists(entry.oid) else None,
            )
    return side


def _workspace_side(ctx: DataContext, lock: LockFile, prefix: str | None) -> Side:
    side: Side = {}
    for tracked in lock.versions().values():
        if prefix and not _overlaps(tracked.path, prefix):
            continue
        target = ctx.root / tracked.path
        if not target.exists():
            continue
        found = scan(target)
        oids = identify(found.files, tracked.path, ctx.cache, None, ctx.jobs)
        for file in found.files:
            path = f"{tracked.path}/{file.rel}" if file.rel else tracked.path
            side[path] = (oids[file.rel], file.key[2], Path(file.path))
    return side


def data_diff(
    ctx: DataContext,
    rev_a: str | None = None,
    rev_b: str | None = None,
    path: str | None = None,
    cwd: Path | None = None,
    tables: bool = True,
) -> DiffReport:
    prefix = project_path(ctx.root, path, cwd) if path else None
    workspace_lock = read_lock(ctx.root)
    if rev_a is None:
        old_lock, old_label = workspace_lock, "keel.lock"
    else:
        old_lock, old_label = lock_at(ctx.root, rev_a), rev_a
    old = _lock_side(ctx, old_lock, prefix)
    if rev_b is None:
        # The workspace side covers what either lock tracks.
        both = LockFile({**old_lock.versions(), **workspace_lock.versions()}, {})
        new, new_label = _workspace_side(ctx, both, prefix), "workspace"
    else:
        new, new_label = _lock_side(ctx, lock_at(ctx.root, rev_b), prefix), rev_b
    if prefix:
        old = {p: v for p, v in old.items() if p == prefix or p.startswith(prefix + "/")}
        new = {p: v for p, v in new.items() if p == prefix or p.startswith(prefix + "/")}
    report = DiffReport(old_label, new_label)
    for file in sorted(set(old) | set(new)):
        before, after = old.get(file), new.get(file)
        if before is None and after is not None:
            report.changes.append(FileChange(file, "added", None, after[1]))
        elif after is None and before is not None:
            report.changes.append(FileChange(file, "removed", before[1], None))
        elif before is not None and after is not None and before[0] != after[0]:
            change = FileChange(file, "modified", before[1], after[1])
            fmt = table_format(file)
            if tables and fmt:
                if before[2] is None or after[2] is None:
                    change.note = "table details need both versions locally (keel pull)"
                else:
                    change.table = compare(summarize(before[2], fmt), summarize(after[2], fmt))
            report.changes.append(change)
    return report
