"""Hierarchical trees: a folder is an object listing its entries, like a git tree.

A tree object is canonical JSON::

    {"format": 1, "entries": [[name, kind, oid, size, files, executable], ...]}

sorted by name, where ``kind`` is ``"file"`` or ``"dir"``; for a folder ``size`` and
``files`` total its subtree. The same folder content always gives the same bytes, hence the
same id — so one changed file rewrites only the trees on its path, and every unchanged
subtree keeps its id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import NamedTuple

from keel.core.errors import IntegrityError
from keel.core.hashing import hash_bytes
from keel.objects.object_store import ObjectStore

TREE_FORMAT = 1


class TreeEntry(NamedTuple):
    """One entry of a tree (a tuple: a big folder decodes into tens of thousands)."""

    name: str
    kind: str  # "file" or "dir"
    oid: str
    size: int
    files: int = 1
    executable: bool = False

    def to_list(self) -> list[object]:
        return [self.name, self.kind, self.oid, self.size, self.files, self.executable]


def encode_tree(entries: list[TreeEntry]) -> bytes:
    ordered = sorted(entries, key=lambda e: e.name)
    body = {"format": TREE_FORMAT, "entries": [e.to_list() for e in ordered]}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_tree(data: bytes, oid: str = "") -> list[TreeEntry]:
    try:
        body = json.loads(data)
        if body.get("format") != TREE_FORMAT:
            raise ValueError(f"tree format {body.get('format')!r}")
        return [TreeEntry(n, k, o, s, f, x) for n, k, o, s, f, x in body["entries"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IntegrityError(f"Object {oid[:12]}… is not a Keel tree ({exc}).") from None


class Trees:
    """Reading and writing trees in an object store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def put(self, entries: list[TreeEntry], store: bool = True) -> str:
        """The tree's id; stored unless ``store`` is False (only its id is wanted)."""
        data = encode_tree(entries)
        return self.store.put_bytes(data) if store else hash_bytes(data)

    def get(self, oid: str) -> list[TreeEntry]:
        return decode_tree(self.store.read_bytes(oid), oid)

    def walk_files(self, oid: str, prefix: str = "") -> Iterator[tuple[str, TreeEntry]]:
        """Every file below tree ``oid`` as (relative path, entry), in path order."""
        for entry in self.get(oid):
            path = f"{prefix}{entry.name}"
            if entry.kind == "dir":
                yield from self.walk_files(entry.oid, path + "/")
            else:
                yield path, entry

    def walk_trees(self, oid: str) -> Iterator[str]:
        """The ids of tree ``oid`` and of every tree below it."""
        yield oid
        for entry in self.get(oid):
            if entry.kind == "dir":
                yield from self.walk_trees(entry.oid)
