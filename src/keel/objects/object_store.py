"""The content-addressed object store.

An object's id is the BLAKE3 hex digest of its bytes; it lives at ``<root>/ab/cdef…``.
Objects are created with :func:`keel.objects.files.publish`: written unnamed (or under a
temporary name) and then named without replacing, so a reader never sees a partial object,
an existing object is never rewritten, and two writers of the same content cannot collide.
Objects are read-only. Every read can verify the hash; a mismatch is an
:class:`IntegrityError` naming the object and the fix.

Files up to 8 MiB are read once into memory, hashed and written; larger files are hashed
with BLAKE3's multithreaded mode over a memory map and then copied by the kernel
(``copy_file_range``), so adding a large file costs about one copy. A file whose size or
modification time changes while it is being stored is refused.
"""

from __future__ import annotations

import os
import stat as stat_module
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from keel.core.errors import FileChanged, IntegrityError, InvalidInput, NotFound
from keel.core.hashing import hash_bytes, hash_file, is_oid
from keel.objects.files import (
    SMALL,
    check_unchanged,
    commit,
    copy_fds,
    publish,
    read_unchanged,
    unlink_quietly,
)

#: From this many ids, :meth:`ObjectStore.missing` lists shard folders instead of stat-ing.
_LIST_FROM = 512
_READ_ONLY = 0o444


class ObjectStore:
    """Objects under one root folder (``.keel/objects`` by default). Thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prefix = str(root) + os.sep
        self._shards: set[str] = set()
        #: Shard folders this object made: they hold only objects written since, so a new
        #: object is written there without looking for it first (naming it refuses a duplicate).
        self._fresh: set[str] = set()
        self._shard_lock = threading.Lock()

    def path(self, oid: str) -> Path:
        return Path(self.location(oid))

    def location(self, oid: str) -> str:
        """The object's file path as a string (what per-file loops over many objects use:
        building a :class:`~pathlib.Path` costs more than the system call it is for)."""
        if not is_oid(oid):
            raise InvalidInput(f"{oid!r} is not an object id (64 hexadecimal characters).")
        return f"{self._prefix}{oid[:2]}{os.sep}{oid[2:]}"

    def exists(self, oid: str) -> bool:
        return os.path.isfile(self.location(oid))

    def missing(self, oids: Iterable[str]) -> list[str]:
        """The ids among ``oids`` that the store lacks, in their order.

        Many ids are checked by listing their shard folders (a few hundred listings instead
        of one stat each) — unless the store is so much larger that listing would read
        more than ten entries per id asked about: the first shard listed tells.
        """
        wanted = list(dict.fromkeys(oids))
        for oid in wanted:
            if not is_oid(oid):
                raise InvalidInput(f"{oid!r} is not an object id (64 hexadecimal characters).")
        by_shard: dict[str, list[str]] = {}
        if len(wanted) >= _LIST_FROM:
            for oid in wanted:
                by_shard.setdefault(oid[:2], []).append(oid)
        lacking: set[str] = set()
        for index, (shard, ids) in enumerate(by_shard.items()):
            try:
                with os.scandir(self._prefix + shard) as entries:
                    names = {e.name for e in entries}
            except (FileNotFoundError, NotADirectoryError):
                names = set()
            lacking.update(oid for oid in ids if oid[2:] not in names)
            if index == 0 and len(names) > 10 * len(ids):
                by_shard = {}  # a big store: stat the rest instead
                break
        listed = {oid for ids in by_shard.values() for oid in ids}
        return [
            oid
            for oid in wanted
            if oid in lacking or (oid not in listed and not os.path.isfile(self.location(oid)))
        ]

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its object id."""
        oid = hash_bytes(data)
        self._write_new(oid, data)
        return oid

    def put_file(
        self, source: str | Path, before: os.stat_result | None = None, link: bool = False
    ) -> tuple[str, int]:
        """Store the file at ``source``; return (object id, size).

        ``before`` is the stat the caller already took (it must still hold when the file has
        been read, or :class:`FileChanged` is raised). With ``link``, a new object is a hard
        link to ``source`` itself (no copy; the file becomes read-only, as the object it now
        is); where linking is impossible it is copied.
        """
        try:
            before = before or os.stat(source)
        except FileNotFoundError:
            raise NotFound(f"{source} does not exist.") from None
        if not stat_module.S_ISREG(before.st_mode):
            raise InvalidInput(f"{source} is not a regular file.")
        data: bytes | None = None
        if before.st_size <= SMALL:
            data = read_unchanged(source, before)
            oid = hash_bytes(data)
        else:
            oid = hash_file(Path(source))
            check_unchanged(source, before)
        folder = self._shard(oid)
        target = folder + oid[2:]
        if self._has(oid, target):
            return oid, before.st_size
        if link and self._link_in(source, oid, before):
            return oid, before.st_size
        if data is not None:
            publish(target, data, _READ_ONLY, folder)
            return oid, len(data)

        def copy(fd: int) -> None:
            with open(source, "rb") as src:
                copy_fds(src.fileno(), fd)
            check_unchanged(source, before)  # changed while copied: not this object

        publish(target, copy, _READ_ONLY, folder)
        return oid, before.st_size

    def _link_in(self, source: str | Path, oid: str, before: os.stat_result) -> bool:
        """Make ``source`` itself object ``oid``; False when it cannot be linked."""
        target = self._shard(oid) + oid[2:]
        try:
            os.link(source, target)  # refuses to replace: an existing object is never rewritten
        except FileExistsError:
            return True
        except OSError:
            return False  # another filesystem, no hard links here: copy instead
        try:
            check_unchanged(source, before)
        except FileChanged:
            unlink_quietly(target)  # written to after it was hashed: not this object
            raise
        os.chmod(target, _READ_ONLY)
        return True

    def open(self, oid: str) -> BinaryIO:
        """Open an object for reading (not verified; use :meth:`verify` or :meth:`read_bytes`)."""
        try:
            return self.path(oid).open("rb")
        except FileNotFoundError:
            raise self._missing(oid) from None

    def read_bytes(self, oid: str, verify: bool = True) -> bytes:
        try:
            data = self.path(oid).read_bytes()
        except FileNotFoundError:
            raise self._missing(oid) from None
        if verify and hash_bytes(data) != oid:
            raise self._corrupt(oid)
        return data

    def verify(self, oid: str) -> None:
        """Raise :class:`IntegrityError` if the object's content does not match its id."""
        path = self.path(oid)
        if not path.is_file():
            raise self._missing(oid)
        if hash_file(path) != oid:
            raise self._corrupt(oid)

    def copy_to(self, oid: str, dest: Path, verify: bool = True) -> Path:
        """Write a verified, writable copy of an object to ``dest`` (atomically)."""
        if verify:
            self.verify(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.parent / f".keel-tmp-{os.getpid()}-{os.urandom(6).hex()}"
        try:
            import shutil

            shutil.copyfile(self.path(oid), tmp)
            os.replace(tmp, dest)
        finally:
            unlink_quietly(tmp)
        return dest

    def receive(self, oid: str, fetch: Callable[[Path], None]) -> int:
        """Store an object that ``fetch(path)`` writes (a download from a remote), checking
        its hash before it joins the store; return its size."""
        target = self.location(oid)
        if os.path.isfile(target):
            return os.path.getsize(target)
        tmp = f"{self._shard(oid)}.tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"
        try:
            fetch(Path(tmp))
            if hash_file(Path(tmp)) != oid:
                raise _mismatch(oid)
            size = os.path.getsize(tmp)
            commit(tmp, target, _READ_ONLY)
        except BaseException:
            unlink_quietly(tmp)
            raise
        return size

    def receive_bytes(self, oid: str, data: bytes) -> int:
        """Store ``data`` received as object ``oid`` (from a remote), refusing bytes that do
        not match the id; return its size."""
        if hash_bytes(data) != oid:
            raise _mismatch(oid)
        self._write_new(oid, data)
        return len(data)

    def iter_oids(self) -> list[str]:
        """Every object id in the store (temporary files excluded)."""
        found: list[str] = []
        try:
            shards = os.listdir(self.root)
        except FileNotFoundError:
            return []
        for shard in shards:
            if len(shard) != 2:
                continue
            try:
                names = os.listdir(self.root / shard)
            except NotADirectoryError:
                continue
            found.extend(shard + name for name in names if len(name) == 62 and not name.startswith("."))
        return found

    def _shard(self, oid: str) -> str:
        """The object's shard folder (made when missing), with a trailing separator."""
        shard = oid[:2]
        folder = f"{self._prefix}{shard}{os.sep}"
        if shard not in self._shards:
            try:
                os.mkdir(folder)
                made = True
            except FileExistsError:
                made = False
            except FileNotFoundError:  # no store yet
                os.makedirs(folder, exist_ok=True)
                made = True
            with self._shard_lock:
                self._shards.add(shard)
                if made:
                    self._fresh.add(shard)
        return folder

    def _has(self, oid: str, target: str) -> bool:
        """Whether object ``oid`` (at ``target``) is stored. In a shard folder this store made
        it is not looked for: writing it again costs less than a look, and naming the new
        file refuses a duplicate."""
        return oid[:2] not in self._fresh and os.path.isfile(target)

    def _write_new(self, oid: str, data: bytes) -> None:
        """Store ``data`` as object ``oid`` unless the store has it."""
        folder = self._shard(oid)
        target = folder + oid[2:]
        if not self._has(oid, target):
            publish(target, data, _READ_ONLY, folder)

    def _missing(self, oid: str) -> NotFound:
        return NotFound(f"Object {oid[:12]}… is not in {self.root}; it may be on a remote (keel pull).")

    def _corrupt(self, oid: str) -> IntegrityError:
        return IntegrityError(
            f"Object {oid[:12]}… in {self.root} is corrupt (its content no longer matches its id); "
            f"run `keel pull --force` to fetch it again from a remote."
        )


def _mismatch(oid: str) -> IntegrityError:
    return IntegrityError(f"Received data for object {oid[:12]}… does not match its id; fetch it again.")
