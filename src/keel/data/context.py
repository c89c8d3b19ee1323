"""What every data command works with: the project, its object store, trees and stat cache."""

from __future__ import annotations

import os
from pathlib import Path

from keel.core.workspace import Workspace, open_workspace
from keel.objects.object_store import ObjectStore
from keel.objects.snapshot import fingerprint_of, folder_states
from keel.objects.stat_cache import StatCache, StatKey
from keel.objects.trees import TreeEntry, Trees


class DataContext:
    __slots__ = ("cache", "listings", "local_versions", "store", "trees", "workspace")

    def __init__(self, workspace: Workspace, store: ObjectStore, trees: Trees, cache: StatCache) -> None:
        self.workspace = workspace
        self.store = store
        self.trees = trees
        self.cache = cache
        #: Versions (by id) every object of which this command found in the local store. A
        #: command deletes no object it has found, so a checkout after a fetch need not look again.
        self.local_versions: set[str] = set()
        #: The files of folder versions read so far (tree id → rel → entry; see recorded_files).
        self.listings: dict[str, dict[str, TreeEntry]] = {}

    @property
    def root(self) -> Path:
        return self.workspace.root

    @property
    def jobs(self) -> int:
        configured: int = self.workspace.settings.jobs
        # Hashing small files and transfers wait on I/O: more threads than cores pays.
        return configured if configured > 0 else min(32, (os.cpu_count() or 2) * 4)

    @property
    def link(self) -> str:
        return str(self.workspace.settings.data_link)

    def remember_intact(self, path: str, kind: str, oid: str, keys: list[tuple[str, StatKey]]) -> None:
        """Remember that tracked ``path`` (a ``kind``) held version ``oid`` with these files
        (rel, stat key; sorted by rel), and so did each of its subfolders: a later status
        with the same stats needs no hashing, and after one change rereads one subfolder."""
        if kind == "dir" and self.store.exists(oid):
            self.cache.set_path_states(folder_states(path, oid, keys, self.trees.get(oid)))
        else:  # a file, or a folder identified without storing its trees
            self.cache.set_path_state(path, fingerprint_of(kind, keys), oid)

    def close(self) -> None:
        self.cache.close()


def open_data(start: Path | None = None, workspace: Workspace | None = None) -> DataContext:
    workspace = workspace or open_workspace(start)
    state = workspace.state_dir
    if not state.is_dir():  # a fresh clone: .keel/ is local state, never committed
        state.mkdir(parents=True, exist_ok=True)
        (state / ".gitignore").write_text("*\n", encoding="utf-8")
    store = ObjectStore(workspace.objects_dir)
    return DataContext(workspace, store, Trees(store), StatCache(workspace.state_dir / "state.db"))
