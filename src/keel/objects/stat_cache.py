"""The stat cache in ``.keel/state.db``: (inode, mtime_ns, size) → object id per file.

A file whose inode, modification time and size are unchanged since it was last hashed is not
hashed again. For a whole tracked path, a fingerprint of every file's (name, inode, mtime,
size) remembers which version the folder held when it was last seen intact, so a status of
an unchanged folder costs one stat per file and nothing else. The cache is local state
(never shared): losing it only costs a rehash. Paths are relative to the project root, with
``/`` separators.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from keel.core.errors import StoreUnavailable
from keel.core.sqlite_wal import enable_wal

StatKey = tuple[int, int, int]  # inode, mtime_ns, size

_SCHEMA = """
CREATE TABLE IF NOT EXISTS stat_cache (
    path TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    oid TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS path_state (
    path TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    oid TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_support (
    device INTEGER NOT NULL,
    method TEXT NOT NULL,
    works INTEGER NOT NULL,
    PRIMARY KEY (device, method)
) WITHOUT ROWID;
"""


class StatCache:
    """Thread-safe access to one project's state database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            try:
                conn.execute("PRAGMA synchronous = NORMAL")  # before WAL: a new file syncs less
                enable_wal(conn, 60)
                conn.executescript(_SCHEMA)
            except sqlite3.DatabaseError as exc:
                conn.close()
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    raise
                raise StoreUnavailable(
                    f"The stat cache {self.path} cannot be used ({exc}); delete it (it only "
                    "remembers which files were hashed already) and run the command again."
                ) from None
            self._conn = conn
        return self._conn

    def create(self) -> None:
        """Create the database now (``keel init``), so no later command pays for it."""
        with self._lock:
            self._db()

    def load(self, prefix: str) -> dict[str, tuple[StatKey, str]]:
        """Entries for the file ``prefix`` and everything below the folder ``prefix``."""
        with self._lock:
            rows = self._db().execute(
                "SELECT path, inode, mtime_ns, size, oid FROM stat_cache "
                "WHERE path = ? OR (path >= ? AND path < ?)",
                (prefix, prefix + "/", prefix + "0"),  # "0" sorts right after "/"
            )
            return {path: ((inode, mtime, size), oid) for path, inode, mtime, size, oid in rows}

    def save(self, rows: Iterable[tuple[str, StatKey, str]]) -> None:
        values = [(path, key[0], key[1], key[2], oid) for path, key, oid in rows]
        self._write_many("INSERT OR REPLACE INTO stat_cache VALUES (?, ?, ?, ?, ?)", values)

    def _write_many(self, statement: str, values: Sequence[tuple[object, ...]]) -> None:
        """``statement`` for each of ``values``, in one transaction."""
        if not values:
            return
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(statement, values)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def path_state(self, path: str) -> tuple[str, str] | None:
        """(fingerprint, version id) last seen for a tracked path whose files matched it."""
        with self._lock:
            row = (
                self._db()
                .execute("SELECT fingerprint, oid FROM path_state WHERE path = ?", (path,))
                .fetchone()
            )
        return None if row is None else (str(row[0]), str(row[1]))

    def set_path_state(self, path: str, fingerprint: str, oid: str) -> None:
        with self._lock:
            self._db().execute("INSERT OR REPLACE INTO path_state VALUES (?, ?, ?)", (path, fingerprint, oid))

    def set_path_states(self, rows: Iterable[tuple[str, str, str]]) -> None:
        """Several (path, fingerprint, version id) rows at once, in one transaction."""
        self._write_many("INSERT OR REPLACE INTO path_state VALUES (?, ?, ?)", list(rows))

    def link_support(self, device: int, method: str) -> bool | None:
        with self._lock:
            row = (
                self._db()
                .execute("SELECT works FROM link_support WHERE device = ? AND method = ?", (device, method))
                .fetchone()
            )
        return None if row is None else bool(row[0])

    def set_link_support(self, device: int, method: str, works: bool) -> None:
        with self._lock:
            self._db().execute(
                "INSERT OR REPLACE INTO link_support VALUES (?, ?, ?)", (device, method, int(works))
            )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
