"""The content-addressed object store.

An object's id is the BLAKE3 hex digest of its bytes; it lives at ``<root>/ab/cdef…``.
Writes go to a temporary file in the destination folder and are then linked into place, so a
reader never sees a partial object and an existing object is never rewritten. Objects are
made read-only. Every read can verify the hash; a mismatch is an :class:`IntegrityError`
naming the object and the fix.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from keel.core.errors import IntegrityError, InvalidInput, NotFound
from keel.core.hashing import hash_bytes, hash_file, is_oid

_CHUNK = 1 << 20
_READ_ONLY = 0o444


class ObjectStore:
    """Objects under one root folder (``.keel/objects`` by default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, oid: str) -> Path:
        if not is_oid(oid):
            raise InvalidInput(f"{oid!r} is not an object id (64 hexadecimal characters).")
        return self.root / oid[:2] / oid[2:]

    def exists(self, oid: str) -> bool:
        return self.path(oid).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its object id."""
        oid = hash_bytes(data)
        target = self.path(oid)
        if target.is_file():
            return oid
        tmp = self._temp_for(target)
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
            self._commit(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return oid

    def put_file(self, source: Path) -> tuple[str, int]:
        """Copy the file at ``source`` into the store; return (object id, size).

        The copy is hashed as it is written, so the file is read once; a file that changes
        while it is copied is caught by comparing its size and mtime before and after.
        """
        from blake3 import blake3

        try:
            before = source.stat()
        except FileNotFoundError:
            raise NotFound(f"{source} does not exist.") from None
        if not source.is_file():
            raise InvalidInput(f"{source} is not a file.")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._temp_for(self.root / "tmp" / "x")
        hasher = blake3()
        try:
            with source.open("rb") as src, tmp.open("wb") as dst:
                while chunk := src.read(_CHUNK):
                    hasher.update(chunk)
                    dst.write(chunk)
            after = source.stat()
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise IntegrityError(
                    f"{source} changed while it was being stored; try again once it is written."
                )
            oid = hasher.hexdigest()
            target = self.path(oid)
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                self._commit(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return oid, before.st_size

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
        """Write a verified, writable copy of an object to ``dest``."""
        if verify:
            self.verify(oid)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._temp_for(dest)
        try:
            shutil.copyfile(self.path(oid), tmp)
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest

    def _temp_for(self, target: Path) -> Path:
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.parent / f".tmp-{os.getpid()}-{os.urandom(6).hex()}"

    def _commit(self, tmp: Path, target: Path) -> None:
        os.chmod(tmp, _READ_ONLY)
        try:
            # link() refuses to replace an existing file: a concurrent writer of the same
            # content wins and nothing is ever rewritten.
            os.link(tmp, target)
        except FileExistsError:
            pass
        except OSError:
            # Filesystems without hard links: rename is still atomic; identical bytes anyway.
            if not target.exists():
                os.replace(tmp, target)

    def _missing(self, oid: str) -> NotFound:
        return NotFound(f"Object {oid[:12]}… is not in {self.root}; it may be on a remote (keel pull).")

    def _corrupt(self, oid: str) -> IntegrityError:
        return IntegrityError(
            f"Object {oid[:12]}… in {self.root} is corrupt (its content no longer matches its id); "
            f"delete {self.path(oid)} and restore it from a remote or by logging the file again."
        )
