"""Is the process that owns a run still alive?

A run records the host, pid and (on Linux) the pid's start time. A pid alone is not enough:
pids are reused, so a long-dead run could look alive because an unrelated process got its pid.
"""

from __future__ import annotations

import os
from functools import cache


@cache
def hostname() -> str:
    """This machine's name (``socket.gethostname()``; on POSIX the same value is read from
    ``uname``, without importing socket)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _stat_fields(pid: int) -> list[bytes] | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()


def process_start(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), or None when unknown."""
    fields = _stat_fields(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def is_alive(pid: int, start: int | None) -> bool:
    """True when ``pid`` runs and, if ``start`` is known, is the same process that started then."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _stat_fields(pid)
    if fields is None:
        return True  # no /proc here: the pid exists, which is all we can tell
    if fields[:1] in ([b"Z"], [b"X"]):
        return False  # exited, not yet reaped by its parent
    if start is None:
        return True
    return process_start(pid) in (None, start)
