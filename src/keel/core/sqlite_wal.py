"""Switching a SQLite database to WAL when several processes open it at once."""

from __future__ import annotations

import sqlite3
import time
from typing import Any


def enable_wal(cursor: Any, timeout: float) -> None:
    """``PRAGMA journal_mode = WAL`` on ``cursor`` (a DB-API cursor or connection).

    SQLite does not call the busy handler for a journal-mode change, so two processes opening
    a new database at the same moment get an immediate "database is locked" however long the
    busy timeout is. Retry it instead, for up to ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            text = str(exc)
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
            import random  # only when contended

            time.sleep(random.uniform(0.005, 0.03))
