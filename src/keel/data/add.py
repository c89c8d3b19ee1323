"""``keel data add PATH…``: snapshot files and folders into the object store."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from keel.core.errors import InvalidInput
from keel.data.context import DataContext
from keel.data.lockfile import TrackedPath, read_lock, update_lock
from keel.data.paths import overlapping, project_path
from keel.objects.materialize import choose_method
from keel.objects.snapshot import Progress, build_tree, identify, scan

GITIGNORE_HEADER = "# Data tracked by Keel (versions in keel.lock)"


class AddResult(NamedTuple):
    tracked: TrackedPath
    previous: str | None  # the object id keel.lock held before, if any

    @property
    def changed(self) -> bool:
        return self.previous != self.tracked.oid

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.tracked.path, **self.tracked.to_dict(), "changed": self.changed}


def resolve_paths(ctx: DataContext, user_paths: list[str], cwd: Path | None = None) -> list[str]:
    """Validate every path first (so a bad one changes nothing) and drop duplicates."""
    if not user_paths:
        raise InvalidInput("Give at least one file or folder to add, e.g. keel data add data/raw.")
    rels: list[str] = []
    for user_path in user_paths:
        rel = project_path(ctx.root, user_path, cwd)
        if rel not in rels:
            rels.append(rel)
    for rel in rels:
        other = overlapping(rel, [r for r in rels if r != rel])
        if other is not None:
            raise InvalidInput(f"{rel} and {other} overlap; add only the outer folder.")
    return rels


def snapshot_path(
    ctx: DataContext, rel: str, progress: Progress | None = None, store: bool = True
) -> TrackedPath:
    """The version of ``rel`` (a project-relative path), stored in the object store unless
    ``store`` is False (then only its id is computed: unchanged files are not even read)."""
    found = scan(ctx.root / rel)
    link = False
    if store and ctx.link == "hardlink":  # only then do files join the store as links
        folder = ctx.root / rel if found.kind == "dir" else (ctx.root / rel).parent
        link = choose_method(ctx.link, ctx.store, folder, ctx.cache) == "hardlink"
    oids = identify(found.files, rel, ctx.cache, ctx.store if store else None, ctx.jobs, progress, link=link)
    if found.kind == "file":
        file = found.files[0]
        version = TrackedPath(rel, oids[""], "file", file.key[2], 1)
    elif not found.files:
        raise InvalidInput(f"{rel} is an empty folder; there is nothing to track.")
    else:
        oid, size, count = build_tree(found.files, oids, ctx.trees, store)
        version = TrackedPath(rel, oid, "dir", size, count)
    # Linking files into the store changes their mode, not their (inode, mtime, size).
    ctx.remember_intact(rel, found.kind, version.oid, [(f.rel, f.key) for f in found.files])
    return version


def add_paths(
    ctx: DataContext,
    user_paths: list[str],
    cwd: Path | None = None,
    progress_for: Any = None,
) -> list[AddResult]:
    """Snapshot each path, record it in keel.lock and keep it out of git."""
    rels = resolve_paths(ctx, user_paths, cwd)
    existing = read_lock(ctx.root).data
    for rel in rels:
        other = overlapping(rel, list(existing))
        if other is not None and rel not in existing:
            inner = rel.startswith(other + "/")
            hint = (
                f"it is inside tracked {other}; add {other} again"
                if inner
                else f"it contains tracked {other}"
            )
            raise InvalidInput(f"Cannot track {rel}: {hint}.")
    versions = []
    for rel in rels:
        progress = progress_for(rel) if progress_for is not None else None
        versions.append(snapshot_path(ctx, rel, progress))
    results = []
    with update_lock(ctx.root) as lock:
        for version in versions:
            previous = lock.data.get(version.path)
            lock.data[version.path] = version
            results.append(AddResult(version, previous.oid if previous else None))
    ensure_gitignored(ctx.root, [v.path for v in versions])
    return results


def ensure_gitignored(root: Path, rels: list[str]) -> None:
    """Add ``/path`` lines for tracked data to the project's .gitignore (once). Processes that
    add at the same moment take turns (a lock file), so no line is lost and no write fails."""
    import fcntl
    import os

    path = root / ".gitignore"
    state = root / ".keel"
    state.mkdir(exist_ok=True)
    with open(state / "gitignore.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        wanted = [f"/{rel}" for rel in rels if f"/{rel}" not in lines]
        if not wanted:
            return
        if GITIGNORE_HEADER not in lines:
            if lines and lines[-1].strip():
                lines.append("")
            lines.append(GITIGNORE_HEADER)
        lines.extend(wanted)
        tmp = path.with_name(f".gitignore.{os.getpid()}.keel-tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(path)
