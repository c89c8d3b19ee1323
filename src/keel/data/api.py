"""The data Python API: ``keel.dataset(path, rev=None)`` and ``keel.open(path, rev=None)``.

Example::

    ds = keel.dataset("data/raw/train.csv")       # the version keel.lock records
    with keel.start_run():
        keel.log_input(ds)
        with keel.open("data/raw/train.csv", rev="v1.0") as fh:   # as it was at a git tag
            ...
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from keel.core.entities import DatasetVersion
from keel.core.errors import InvalidInput, NotFound
from keel.data.context import DataContext, open_data
from keel.data.git_revs import lock_at
from keel.data.lockfile import LockFile, read_lock
from keel.data.paths import project_path
from keel.data.table_summary import summarize, table_format
from keel.objects.trees import TreeEntry


def _lock(ctx: DataContext, rev: str | None) -> LockFile:
    return read_lock(ctx.root) if rev is None else lock_at(ctx.root, rev)


def _locate(ctx: DataContext, lock: LockFile, rel: str, rev: str | None) -> tuple[str, TreeEntry]:
    """(tracked path, entry) for a tracked path or a file inside a tracked folder."""
    where = f" at {rev}" if rev else ""
    for tracked in lock.versions().values():
        if rel == tracked.path:
            name = Path(rel).name
            return tracked.path, TreeEntry(name, tracked.kind, tracked.oid, tracked.size, tracked.files)
        if rel.startswith(tracked.path + "/") and tracked.kind == "dir":
            _ensure_local(ctx, tracked.oid)
            oid = tracked.oid
            parts = rel[len(tracked.path) + 1 :].split("/")
            for depth, part in enumerate(parts):
                _ensure_local(ctx, oid)
                entry = next((e for e in ctx.trees.get(oid) if e.name == part), None)
                if entry is None:
                    break
                if depth == len(parts) - 1:
                    return tracked.path, entry
                if entry.kind != "dir":
                    break
                oid = entry.oid
            raise NotFound(f"{rel} is not in the recorded version of {tracked.path}{where}.")
    tracked_paths = ", ".join(sorted(lock.versions())) or "nothing"
    raise NotFound(f"{rel} is not tracked{where} (tracked: {tracked_paths}); `keel data add` it first.")


def _ensure_local(ctx: DataContext, oid: str) -> None:
    """Fetch one object from the default remote when the local store lacks it."""
    if ctx.store.exists(oid):
        return
    from keel.data.remotes import connect
    from keel.data.transfer import _receive

    try:
        remote = connect(ctx.workspace)
    except (NotFound, InvalidInput):
        raise NotFound(
            f"Object {oid[:12]}… is not in the local store and no default remote is set to fetch it from; "
            "`keel remote add` one, then `keel pull`."
        ) from None
    _receive(ctx, remote, oid)


def dataset(path: str | Path, rev: str | None = None, *, start: Path | None = None) -> DatasetVersion:
    """The recorded version of a tracked path (or of a file inside a tracked folder), as of
    keel.lock in the workspace or at git revision ``rev``. Table files (CSV, TSV, Parquet)
    also get their row count and schema."""
    ctx = open_data(start)
    try:
        rel = project_path(ctx.root, path)
        _, entry = _locate(ctx, _lock(ctx, rev), rel, rev)
        fmt = table_format(rel) if entry.kind == "file" else None
        rows = schema = None
        if fmt:
            _ensure_local(ctx, entry.oid)
            summary = summarize(ctx.store.path(entry.oid), fmt)
            rows, schema = summary.rows, summary.schema
        return DatasetVersion(rel, entry.oid, entry.kind, entry.size, entry.files, rev, fmt, rows, schema)
    finally:
        ctx.close()


def open_tracked(
    path: str | Path,
    rev: str | None = None,
    mode: str = "rb",
    encoding: str | None = None,
    *,
    start: Path | None = None,
) -> IO[Any]:
    """Open a tracked file for reading as it was recorded (in keel.lock, or at ``rev``)."""
    if mode not in ("r", "rb", "rt"):
        raise InvalidInput(f"keel.open reads recorded versions: mode must be 'r' or 'rb', not {mode!r}.")
    ctx = open_data(start)
    try:
        rel = project_path(ctx.root, path)
        _, entry = _locate(ctx, _lock(ctx, rev), rel, rev)
        if entry.kind != "file":
            raise InvalidInput(f"{rel} is a folder; open one of its files, e.g. {rel}/<name>.")
        _ensure_local(ctx, entry.oid)
        object_path = ctx.store.path(entry.oid)
        if mode == "rb":
            return open(object_path, "rb")
        return open(object_path, encoding=encoding or "utf-8")
    finally:
        ctx.close()
