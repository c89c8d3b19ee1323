"""Content hashing: object ids are BLAKE3 hex digests (64 characters)."""

from __future__ import annotations

import re
from pathlib import Path

OID_LENGTH = 64
_OID = re.compile(r"[0-9a-f]{64}\Z")
_CHUNK = 1 << 20
#: Files at least this large are hashed with BLAKE3's multithreaded mode.
_THREADED_FROM = 16 << 20


def hash_bytes(data: bytes) -> str:
    """The object id of ``data``."""
    from blake3 import blake3

    return blake3(data).hexdigest()


def hash_file(path: Path) -> str:
    """The object id of the file at ``path``."""
    from blake3 import blake3

    size = path.stat().st_size
    hasher = blake3(max_threads=blake3.AUTO) if size >= _THREADED_FROM else blake3()
    if size >= _THREADED_FROM:
        hasher.update_mmap(path)
        return hasher.hexdigest()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
    return hasher.hexdigest()


def is_oid(text: str) -> bool:
    """True when ``text`` is a well-formed object id."""
    return _OID.match(text) is not None
