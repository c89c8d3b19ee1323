"""Fetching what a checkout needs from the remote, when a remote is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.core.errors import InvalidInput, NotFound
from keel.data.checkout import missing_objects
from keel.data.context import DataContext
from keel.data.lockfile import LockFile, read_lock
from keel.data.remotes import connect
from keel.data.status import pick
from keel.data.transfer import TransferResult, fetch


def fetch_if_missing(
    ctx: DataContext,
    lock: LockFile | None,
    user_paths: list[str] | None,
    remote_name: str | None,
    start: Callable[[str, int | None], Callable[[int], None]] | None = None,
) -> TransferResult | None:
    """Fetch the objects the versions to check out lack locally. Without a remote (and none
    named), do nothing: the checkout then says what is missing and how to get it."""
    versions = pick(ctx, lock if lock is not None else read_lock(ctx.root), user_paths, None)
    needed = []
    for tracked in versions:
        try:
            if missing_objects(ctx, tracked):
                needed.append(tracked)
        except NotFound:  # its tree is not local either
            needed.append(tracked)
    if not needed:
        return None
    try:
        remote = connect(ctx.workspace, remote_name)
    except (NotFound, InvalidInput):
        if remote_name:
            raise
        return None
    progress_start: Any = (lambda n: start(f"fetch ← {remote.name}", n)) if start else None
    return fetch(ctx, remote, needed, progress_start=progress_start)
