"""``keel gc``: delete objects nothing refers to.

Kept: everything keel.lock refers to — in the workspace and, unless ``workspace_only``, on
every local branch and tag — every run's artifacts, diffs and package lists, and any object
younger than ``gc_grace_hours`` (a concurrent `keel data add` or push may be about to
record it). When a tree's listing is not available, nothing is deleted: what it holds is
unknown.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from keel.core.errors import Conflict
from keel.data.context import DataContext
from keel.data.references import References, all_references
from keel.objects.remote import Remote


@dataclass
class GcReport:
    where: str
    kept: int
    deleted: int
    bytes: int
    young: int
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _require_listings(refs: References) -> None:
    """gc must know everything in use: a missing or corrupt tree listing stops it."""
    for oid in sorted(refs.unlisted | refs.corrupt):
        state = "not local" if oid in refs.unlisted else "corrupt"
        raise Conflict(
            f"The listing of tree {oid[:12]}… ({refs.objects.get(oid, '?')}) is {state}, so what it holds "
            "is unknown; `keel pull --force` first (or use --workspace-only)."
        )


def gc_local(ctx: DataContext, dry_run: bool = False, workspace_only: bool = False) -> GcReport:
    refs = all_references(ctx, workspace_only)
    _require_listings(refs)
    grace = float(ctx.workspace.settings.gc_grace_hours) * 3600
    cutoff = time.time() - grace
    deleted = kept = young = size = 0
    for oid in ctx.store.iter_oids():
        if oid in refs.objects:
            kept += 1
            continue
        path = ctx.store.path(oid)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        if st.st_mtime > cutoff:
            young += 1
            continue
        deleted += 1
        size += st.st_size
        if not dry_run:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return GcReport("local", kept, deleted, size, young, dry_run)


def gc_remote(
    ctx: DataContext, remote: Remote, dry_run: bool = False, workspace_only: bool = False
) -> GcReport:
    refs = all_references(ctx, workspace_only)
    _require_listings(refs)
    on_remote = remote.list_times()
    cutoff = time.time() - float(ctx.workspace.settings.gc_grace_hours) * 3600
    unreferenced = [oid for oid in on_remote if oid not in refs.objects]
    # Objects of unknown age are kept too: they may belong to a push still under way.
    young = [oid for oid in unreferenced if (on_remote[oid] or float("inf")) > cutoff]
    doomed = sorted(set(unreferenced) - set(young))
    if not dry_run:
        for oid in doomed:
            remote.delete(oid)
    return GcReport(remote.name, len(on_remote) - len(unreferenced), len(doomed), 0, len(young), dry_run)
