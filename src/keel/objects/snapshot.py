"""Scanning a file or folder of the workspace, hashing what changed, building its trees.

``scan`` walks a path (following symbolic links, refusing loops) and stats every file;
``identify`` gives each file its object id — from the stat cache when (inode, mtime, size)
are unchanged, else by hashing (and, when storing, copying into the store) in parallel
threads; ``build_tree`` assembles the folder's trees bottom-up.
"""

from __future__ import annotations

import gc
import os
import stat as stat_module
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from keel.core.errors import InvalidInput, NotFound
from keel.core.hashing import hash_bytes, hash_file
from keel.objects.files import check_unchanged, read_unchanged
from keel.objects.object_store import ObjectStore
from keel.objects.stat_cache import StatCache, StatKey
from keel.objects.trees import TreeEntry, Trees

Progress = Callable[[int], None]


class ScannedFile(NamedTuple):
    """A file found by :func:`scan` (a tuple: tens of thousands are made per scan)."""

    rel: str  # relative to the tracked path ("" when the tracked path is the file itself)
    path: str  # absolute path
    key: StatKey
    executable: bool
    stat: os.stat_result


class Scan(NamedTuple):
    kind: str  # "file" or "dir"
    files: list[ScannedFile]


def _key(st: os.stat_result) -> StatKey:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def scan(path: Path) -> Scan:
    """Every file at or below ``path`` with its stat. Symbolic links are followed."""
    try:
        top = os.stat(path)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist.") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise InvalidInput(f"{path} is a symbolic link loop; remove or fix the link.") from None
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from None
    if stat_module.S_ISREG(top.st_mode):
        return Scan("file", [ScannedFile("", str(path), _key(top), bool(top.st_mode & 0o100), top)])
    if not stat_module.S_ISDIR(top.st_mode):
        raise InvalidInput(f"{path} is neither a file nor a folder.")
    files: list[ScannedFile] = []
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [(str(path), "", frozenset(seen))]
    while stack:
        folder, rel, ancestors = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise InvalidInput(f"Cannot read folder {folder}: {exc.strerror}.") from None
        for entry in entries:
            name = entry.name
            if "\n" in name or "\r" in name:
                raise InvalidInput(
                    f"{entry.path!r}: file names with line breaks are not supported; rename it."
                )
            child_rel = f"{rel}{name}"
            try:
                st = entry.stat(follow_symlinks=True)
            except FileNotFoundError:
                if entry.is_symlink():
                    raise InvalidInput(f"{entry.path} is a broken symbolic link; remove or fix it.") from None
                continue  # deleted while we walked
            except OSError as exc:
                if exc.errno == 40:
                    raise InvalidInput(
                        f"{entry.path} is a symbolic link loop; remove or fix the link."
                    ) from None
                raise InvalidInput(f"Cannot read {entry.path}: {exc.strerror}.") from None
            if stat_module.S_ISDIR(st.st_mode):
                ident = (st.st_dev, st.st_ino)
                if ident in ancestors:
                    raise InvalidInput(
                        f"{entry.path} is a symbolic link back into a folder above it (a loop); remove the link."
                    )
                stack.append((entry.path, child_rel + "/", ancestors | {ident}))
            elif st.st_mode & 0o170000 == 0o100000:  # S_ISREG, inlined: this loop runs per file
                files.append(
                    ScannedFile(
                        child_rel,
                        entry.path,
                        (st.st_ino, st.st_mtime_ns, st.st_size),
                        bool(st.st_mode & 0o100),
                        st,
                    )
                )
    files.sort(key=lambda f: f.rel)
    return Scan("dir", files)


#: Hashing small files on a pool pays for the pool's start-up (threads, imports) only from
#: this many files or bytes on.
POOL_MIN_FILES = 64
POOL_MIN_BYTES = 4 << 20


def identify(
    files: list[ScannedFile],
    cache_prefix: str,
    cache: StatCache,
    store: ObjectStore | None,
    jobs: int,
    progress: Progress | None = None,
    link: bool = False,
) -> dict[str, str]:
    """Object id of every file (rel → oid). With ``store``, files are also stored (with
    ``link``, as hard links to the files themselves).

    ``cache_prefix`` is the tracked path relative to the project root; stat cache entries
    are keyed ``cache_prefix/rel``. Hashing only runs on ``jobs`` threads; storing runs on
    one, because creating files is what it waits on, and on ext4 parallel creators
    measured slower than one.
    """
    known = cache.load(cache_prefix)
    oids: dict[str, str] = {}
    todo: list[ScannedFile] = []
    for file in files:
        cache_path = _cache_path(cache_prefix, file.rel)
        hit = known.get(cache_path)
        if hit is not None and hit[0] == file.key and (store is None or store.exists(hit[1])):
            oids[file.rel] = hit[1]
        else:
            todo.append(file)
    if progress and oids:
        progress(len(oids))

    def work(file: ScannedFile) -> tuple[str, str]:
        if store is not None:
            oid, _ = store.put_file(file.path, file.stat, link)
        elif file.key[2] <= (8 << 20):
            oid = hash_bytes(read_unchanged(file.path, file.stat))
        else:
            oid = hash_file(Path(file.path))
            check_unchanged(file.path, file.stat)
        return file.rel, oid

    fresh: list[tuple[str, StatKey, str]] = []
    if todo:
        big = [f for f in todo if f.key[2] > (8 << 20)]
        small = [f for f in todo if f.key[2] <= (8 << 20)]
        # Big files already use every core for hashing: one at a time. Small files: a pool.
        results = [work(f) for f in big]
        if progress and big:
            progress(len(big))
        pooled = jobs > 1 and (len(small) >= POOL_MIN_FILES or sum(f.key[2] for f in small) >= POOL_MIN_BYTES)
        if small and (store is not None or not pooled):
            for index, file in enumerate(small, 1):
                results.append(work(file))
                if progress and index % 256 == 0:
                    progress(256)
        elif small:
            from concurrent.futures import ThreadPoolExecutor  # only when there is work for it

            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for index, result in enumerate(pool.map(work, small), 1):
                    results.append(result)
                    if progress and index % 256 == 0:
                        progress(256)
        if progress and small:
            progress(len(small) % 256)
        by_rel = {f.rel: f for f in todo}
        for rel, oid in results:
            oids[rel] = oid
            fresh.append((_cache_path(cache_prefix, rel), by_rel[rel].key, oid))
    cache.save(fresh)
    return oids


def fingerprint(found: Scan) -> str:
    """A digest of every file's name, inode, mtime and size: equal means nothing changed."""
    return fingerprint_of(found.kind, [(f.rel, f.key) for f in found.files])


def fingerprint_of(kind: str, keys: list[tuple[str, StatKey]]) -> str:
    """:func:`fingerprint` of a ``kind`` path holding files (rel, stat key), sorted by rel."""
    return _digest(kind, _parts(keys))


def _parts(keys: list[tuple[str, StatKey]]) -> list[str]:
    """One "rel NUL inode NUL mtime NUL size" string per file: what fingerprints hash."""
    return [f"{rel}\0{key[0]}\0{key[1]}\0{key[2]}" for rel, key in keys]


def _digest(kind: str, parts: list[str]) -> str:
    return hash_bytes(f"{kind}\n{chr(10).join(parts)}".encode("utf-8", "surrogateescape"))


def _group_digests(parts: list[str]) -> dict[str, str]:
    """From a folder's sorted parts, the fingerprint of each top-level subfolder's files (as
    a scan of it alone gives), and under "" that of the files directly in the folder."""
    grouped: dict[str, list[str]] = {}
    for part in parts:
        cut = part.find("/", 0, part.index("\0"))
        if cut < 0:
            grouped.setdefault("", []).append(part)
        else:
            grouped.setdefault(part[:cut], []).append(part[cut + 1 :])
    return {name: _digest("dir", members) for name, members in grouped.items()}


class QuickScan:
    """A folder walked with one ``lstat`` per file and no per-file objects but a string. Its
    subfolders' fingerprints, which only a changed folder needs, are derived on first use."""

    def __init__(self, parts: list[str]) -> None:
        self._parts = parts  # "rel\0inode\0mtime\0size", sorted
        #: equal to fingerprint(scan(path))
        self.fingerprint = _digest("dir", parts)

    @cached_property
    def groups(self) -> dict[str, str]:
        """The fingerprint of each top-level subfolder's files (as a scan of it alone gives),
        and under "" that of the files directly in the folder."""
        return _group_digests(self._parts)


def quick_scan(path: Path) -> QuickScan | None:
    """A folder's fingerprint (``fingerprint(scan(path))``) and its subfolders', without
    building the scan: what ``keel data status`` of an unchanged folder needs. None for a
    file, or when the walk meets anything :func:`scan` has to judge (symbolic links,
    unreadable entries, odd names): the caller scans then."""
    try:
        top = os.lstat(path)
    except OSError:
        return None
    if not stat_module.S_ISDIR(top.st_mode):
        return None
    # Each part starts with the file's rel and a NUL, which sorts below every character of a
    # name: sorting the parts sorts by rel, as fingerprint_of's input is.
    parts: list[str] = []
    append = parts.append
    lstat = os.lstat
    stack = [(str(path), "")]
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of new strings would start a collection every 700
    try:
        while stack:
            folder, rel = stack.pop()
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for name in os.listdir(fd):
                    st = lstat(name, dir_fd=fd)
                    kind = st.st_mode & 0o170000
                    if kind == 0o100000:  # a regular file: its part (see _parts), inline
                        append(f"{rel}{name}\0{st.st_ino}\0{st.st_mtime_ns}\0{st.st_size}")
                    elif kind == 0o040000:  # a folder
                        stack.append((f"{folder}{os.sep}{name}", f"{rel}{name}/"))
                    elif kind == 0o120000:  # a symbolic link: scan follows it
                        return None
                    # other kinds (sockets, fifos): scan skips them too
            finally:
                os.close(fd)
    except OSError:
        return None
    finally:
        if collecting:
            gc.enable()
    if any("\n" in part or "\r" in part for part in parts):
        return None  # scan refuses such names
    parts.sort()
    return QuickScan(parts)


def top_files(path: Path) -> list[ScannedFile]:
    """The files directly in folder ``path``, as :func:`scan` gives them (links followed)."""
    files = []
    with os.scandir(path) as entries:
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # gone, or broken: the full scan reports it
            if stat_module.S_ISREG(st.st_mode):
                files.append(ScannedFile(entry.name, entry.path, _key(st), bool(st.st_mode & 0o100), st))
    files.sort(key=lambda f: f.rel)
    return files


def folder_states(
    path: str, oid: str, keys: list[tuple[str, StatKey]], top: list[TreeEntry]
) -> list[tuple[str, str, str]]:
    """The stat cache's "last seen intact" rows (path, fingerprint, version id) for a tracked
    folder at version ``oid`` holding ``keys`` (rel, stat key, sorted by rel), whose tree's
    entries are ``top``: one for the folder, one per subfolder (its own tree's id), and one
    (``path/``) for the files directly in it. A status after one change then rereads only
    the subfolder that changed."""
    parts = _parts(keys)
    rows = [(path, _digest("dir", parts), oid)]
    subtrees = {e.name: e.oid for e in top if e.kind == "dir"}
    for name, digest in _group_digests(parts).items():
        if name == "":
            rows.append((f"{path}/", digest, oid))
        elif name in subtrees:
            rows.append((f"{path}/{name}", digest, subtrees[name]))
    return rows


def _cache_path(prefix: str, rel: str) -> str:
    return f"{prefix}/{rel}" if rel else prefix


def build_tree(
    files: list[ScannedFile], oids: dict[str, str], trees: Trees, store: bool = True
) -> tuple[str, int, int]:
    """Store the trees of a scanned folder; return (root tree id, total size, file count).

    Empty folders are not recorded (as in git).
    """
    children: dict[str, list[TreeEntry]] = {"": []}
    for file in files:
        parent, _, name = file.rel.rpartition("/")
        if parent not in children:
            folder = parent
            while folder not in children:  # create the missing ancestors too
                children[folder] = []
                folder = folder.rpartition("/")[0]
        children[parent].append(TreeEntry(name, "file", oids[file.rel], file.key[2], 1, file.executable))
    # Deepest folders first: a folder's subtrees are stored before the folder itself.
    for folder in sorted(children, key=lambda f: f.count("/") + (1 if f else 0), reverse=True):
        entries = children[folder]
        oid = trees.put(entries, store)
        size = sum(e.size for e in entries)
        count = sum(e.files for e in entries)
        if not folder:
            return oid, size, count
        parent, _, name = folder.rpartition("/")
        children[parent].append(TreeEntry(name, "dir", oid, size, count))
    raise AssertionError("unreachable: the root folder is always processed last")
