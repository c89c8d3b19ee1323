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
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from keel.core.errors import FileChanged, IntegrityError, InvalidInput, NotFound
from keel.core.hashing import hash_bytes, hash_file, is_oid

_SMALL = 8 << 20
_COPY_CHUNK = 64 << 20
_READ_ONLY = 0o444


class ObjectStore:
    """Objects under one root folder (``.keel/objects`` by default). Thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._shards: set[str] = set()
        self._shard_lock = threading.Lock()

    def path(self, oid: str) -> Path:
        if not is_oid(oid):
            raise InvalidInput(f"{oid!r} is not an object id (64 hexadecimal characters).")
        return self.root / oid[:2] / oid[2:]

    def exists(self, oid: str) -> bool:
        return os.path.isfile(self.path(oid))

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its object id."""
        oid = hash_bytes(data)
        target = self.path(oid)
        if not os.path.isfile(target):
            self._write_new(target, data)
        return oid

    def put_file(
        self, source: Path, before: os.stat_result | None = None, link: bool = False
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
            with open(source, "rb") as fh:
                data = fh.read()
            _check_unchanged(source, before)
            oid = hash_bytes(data)
        else:
            oid = hash_file(source)
            _check_unchanged(source, before)
        target = self.path(oid)
        if os.path.isfile(target):
            return oid, before.st_size
        if link and self._link_in(source, target, before):
            return oid, before.st_size
        if data is not None:
            self._write_new(target, data)
            return oid, len(data)
        tmp = self._temp_for(target)
        try:
            _kernel_copy(source, tmp)
            _check_unchanged(source, before)
            self._commit(tmp, target)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return oid, before.st_size

    def _link_in(self, source: Path, target: Path, before: os.stat_result) -> bool:
        """Make ``source`` itself the object at ``target``; False when it cannot be linked."""
        self._shard(target)
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
        target = self.path(oid)
        if os.path.isfile(target):
            return os.path.getsize(target)
        tmp = self._temp_for(target)
        try:
            fetch(tmp)
            if hash_file(tmp) != oid:
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

    def _shard(self, target: Path) -> None:
        shard = target.parent.name
        if shard not in self._shards:
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._shard_lock:
                self._shards.add(shard)

    def _temp_for(self, target: Path) -> Path:
        self._shard(target)
        return target.parent / f".tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"

    def _write_new(self, target: Path, data: bytes) -> None:
        tmp = self._temp_for(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _READ_ONLY)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            finally:
                os.close(fd)
            self._commit(tmp, target, chmod=False)
        except BaseException:
            _unlink_quietly(tmp)
            raise

    def _commit(self, tmp: Path, target: Path, chmod: bool = True) -> None:
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
            if not target.exists():
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


def _check_unchanged(source: Path, before: os.stat_result) -> None:
    after = os.stat(source)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    ):
        raise FileChanged(
            f"{source} changed while Keel was reading it; run the command again once it is written."
        )


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _kernel_copy(source: Path, dest: Path) -> None:
    """Copy with copy_file_range (no trip through user space), falling back to shutil."""
    with open(source, "rb") as src, open(dest, "wb") as dst:
        try:
            while os.copy_file_range(src.fileno(), dst.fileno(), _COPY_CHUNK):
                pass
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            src.seek(0)
            dst.seek(0)
            dst.truncate()
            shutil.copyfileobj(src, dst, 1 << 20)


_renameat2: Any = None
_renameat2_checked = False


def _rename_noreplace(source: Path, target: Path) -> bool:
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
