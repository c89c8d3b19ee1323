"""The content-addressed object store.

An object's id is the BLAKE3 hex digest of its bytes; it lives at ``<root>/ab/cdef…``.
Writes go to a temporary file in the destination folder and are then moved into place with
a no-replace rename (``renameat2(RENAME_NOREPLACE)``; ``link`` + ``unlink`` where that is not
available), so a reader never sees a partial object, an existing object is never rewritten,
and two writers of the same content cannot collide. Objects are made read-only. Every read
can verify the hash; a mismatch is an :class:`IntegrityError` naming the object and the fix.

Files up to 8 MiB are read once into memory, hashed and written; larger files are hashed
with BLAKE3's multithreaded mode over a memory map and then copied by the kernel
(``copy_file_range``), so adding a large file costs about one copy. A file whose size or
modification time changes while it is being stored is refused.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat as stat_module
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from keel.core.errors import FileChanged, IntegrityError, InvalidInput, NotFound
from keel.core.hashing import hash_bytes, hash_file, is_oid

_SMALL = 8 << 20
#: From this many ids, :meth:`ObjectStore.missing` lists shard folders instead of stat-ing.
_LIST_FROM = 512
_COPY_CHUNK = 64 << 20
_READ_ONLY = 0o444


class ObjectStore:
    """Objects under one root folder (``.keel/objects`` by default). Thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._prefix = str(root) + os.sep
        self._shards: set[str] = set()
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
        """The ids among ``oids`` that the store lacks, in their order. Many ids are checked
        by listing their shard folders (a few hundred listings instead of one stat each)."""
        wanted = list(dict.fromkeys(oids))
        for oid in wanted:
            if not is_oid(oid):
                raise InvalidInput(f"{oid!r} is not an object id (64 hexadecimal characters).")
        if len(wanted) < _LIST_FROM:
            return [oid for oid in wanted if not os.path.isfile(self.location(oid))]
        present: set[str] = set()
        for shard in {oid[:2] for oid in wanted}:
            try:
                with os.scandir(self._prefix + shard) as entries:
                    present.update(shard + e.name for e in entries if e.is_file(follow_symlinks=False))
            except (FileNotFoundError, NotADirectoryError):
                continue
        return [oid for oid in wanted if oid not in present]

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its object id."""
        oid = hash_bytes(data)
        if not os.path.isfile(self.location(oid)):
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
        if before.st_size <= _SMALL:
            data = _read_unchanged(source, before)
            oid = hash_bytes(data)
        else:
            oid = hash_file(Path(source))
            _check_unchanged(source, before)
        target = self.location(oid)
        if os.path.isfile(target):
            return oid, before.st_size
        if link and self._link_in(source, oid, before):
            return oid, before.st_size
        if data is not None:
            self._write_new(oid, data)
            return oid, len(data)
        tmp = self._temp_for(oid)
        try:
            _kernel_copy(Path(source), Path(tmp))
            _check_unchanged(source, before)
            self._commit(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
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
            _check_unchanged(source, before)
        except FileChanged:
            _unlink_quietly(target)  # written to after it was hashed: not this object
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
            shutil.copyfile(self.path(oid), tmp)
            os.replace(tmp, dest)
        finally:
            _unlink_quietly(tmp)
        return dest

    def receive(self, oid: str, fetch: Callable[[Path], None]) -> int:
        """Store an object that ``fetch(path)`` writes (a download from a remote), checking
        its hash before it joins the store; return its size."""
        target = self.location(oid)
        if os.path.isfile(target):
            return os.path.getsize(target)
        tmp = self._temp_for(oid)
        try:
            fetch(Path(tmp))
            if hash_file(Path(tmp)) != oid:
                raise IntegrityError(
                    f"Received data for object {oid[:12]}… does not match its id; fetch it again."
                )
            size = os.path.getsize(tmp)
            self._commit(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return size

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
            os.makedirs(folder, exist_ok=True)
            with self._shard_lock:
                self._shards.add(shard)
        return folder

    def _temp_for(self, oid: str) -> str:
        return f"{self._shard(oid)}.tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"

    def _write_new(self, oid: str, data: bytes) -> None:
        tmp = self._temp_for(oid)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _READ_ONLY)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
            self._commit(tmp, self.location(oid), chmod=False)
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def _commit(self, tmp: str, target: str, chmod: bool = True) -> None:
        """Move ``tmp`` to ``target`` unless it exists; ``tmp`` is gone afterwards."""
        if chmod:
            os.chmod(tmp, _READ_ONLY)
        if _rename_noreplace(tmp, target):
            return
        try:
            os.link(tmp, target)  # refuses to replace: the first writer of an id wins
        except FileExistsError:
            pass
        except OSError:
            # Filesystems without hard links: rename is still atomic; identical bytes anyway.
            if not os.path.exists(target):
                os.replace(tmp, target)
                return
        _unlink_quietly(tmp)

    def _missing(self, oid: str) -> NotFound:
        return NotFound(f"Object {oid[:12]}… is not in {self.root}; it may be on a remote (keel pull).")

    def _corrupt(self, oid: str) -> IntegrityError:
        return IntegrityError(
            f"Object {oid[:12]}… in {self.root} is corrupt (its content no longer matches its id); "
            f"run `keel pull --force` to fetch it again from a remote."
        )


def _check_unchanged(source: str | Path, before: os.stat_result, after: os.stat_result | None = None) -> None:
    """Raise :class:`FileChanged` unless ``source`` (now, or as ``after`` says) has the
    size, modification time and inode it had ``before``."""
    after = after or os.stat(source)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    ):
        raise FileChanged(
            f"{source} changed while Keel was reading it; run the command again once it is written."
        )


def _read_unchanged(source: str | Path, before: os.stat_result) -> bytes:
    """The bytes of the small file ``source``, refusing a file that is not as ``before``
    says once read (the stat of the open file: no second path lookup)."""
    fd = os.open(source, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, max(before.st_size, 1 << 16)):
            chunks.append(chunk)
        _check_unchanged(source, before, os.fstat(fd))
    finally:
        os.close(fd)
    return b"".join(chunks)


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def copy_to_new(source: str | Path, dest: str | Path, mode: int, size: int | None = None) -> os.stat_result:
    """Create ``dest``, which must not exist, with ``mode`` and the content of ``source``
    (``size`` bytes, when the caller knows); return the stat of ``dest``. The fewest system
    calls per file: moving many small objects is what this is for."""
    src = os.open(source, os.O_RDONLY)
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if size is None:
                size = os.fstat(src).st_size
            if size <= _SMALL:
                data = os.read(src, size + 1)  # one read, which also sees a wrong size
                if len(data) != size:
                    while more := os.read(src, 1 << 20):
                        data += more
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            else:
                _copy_fds(src, fd)
            return os.fstat(fd)
        finally:
            os.close(fd)
    finally:
        os.close(src)


def _copy_fds(src: int, dst: int) -> None:
    """Copy from ``src``'s position to its end with copy_file_range (no trip through user
    space), falling back to reads and writes where the kernel cannot."""
    try:
        while os.copy_file_range(src, dst, _COPY_CHUNK):
            pass
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
        os.lseek(src, 0, os.SEEK_SET)
        os.lseek(dst, 0, os.SEEK_SET)
        os.ftruncate(dst, 0)
        while chunk := os.read(src, 1 << 20):
            view = memoryview(chunk)
            while view:
                view = view[os.write(dst, view) :]


def _kernel_copy(source: Path, dest: Path) -> None:
    """Copy with copy_file_range (no trip through user space), falling back to reads."""
    with open(source, "rb") as src, open(dest, "wb") as dst:
        _copy_fds(src.fileno(), dst.fileno())


_renameat2: Any = None
_renameat2_checked = False


def _rename_noreplace(source: str | Path, target: str | Path) -> bool:
    """Atomically move ``source`` to ``target`` unless ``target`` exists (then drop ``source``).
    False when the system cannot do it (the caller falls back to link + unlink)."""
    global _renameat2, _renameat2_checked
    if not _renameat2_checked:
        _renameat2_checked = True
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            _renameat2 = getattr(libc, "renameat2", None)
        except (OSError, AttributeError):
            _renameat2 = None
    if _renameat2 is None:
        return False
    import ctypes

    at_fdcwd, rename_noreplace = -100, 1
    if _renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_noreplace) == 0:
        return True
    code = ctypes.get_errno()
    if code == errno.EEXIST:
        _unlink_quietly(source)
        return True
    return False
