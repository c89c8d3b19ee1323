"""A tracking session: one workspace's metadata store, object store and background writer.

Sessions are cached per process (keyed by the project root and the ``KEEL_*`` environment)
so that the Python API finds its store with one ``stat`` after the first call. A forked child
starts with no sessions: the parent's buffered writes stay the parent's to write.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from keel.core.settings import SETTINGS
from keel.core.workspace import Workspace, find_root, open_workspace
from keel.objects.object_store import ObjectStore

if TYPE_CHECKING:
    from keel.store.database import Database
    from keel.tracking.writer import Writer


class Session:
    """Everything tracking needs for one workspace. Thread-safe."""

    def __init__(self, workspace: Workspace) -> None:
        from keel.store.database import Database
        from keel.tracking.writer import Writer

        self.workspace = workspace
        settings = workspace.settings
        if not settings.db_url:
            workspace.state_dir.mkdir(parents=True, exist_ok=True)
        self.db: Database = Database(workspace.db_url, settings)
        self.objects = ObjectStore(workspace.objects_dir)
        self.writer: Writer = Writer(self.db, settings.flush_interval, settings.flush_max_items)
        self._experiments: dict[str, int] = {}
        self._lock = threading.Lock()

    def experiment_id(self, name: str) -> int:
        found = self._experiments.get(name)
        if found is None:
            from keel.store.experiments_repo import get_or_create_experiment

            found = get_or_create_experiment(self.db, name)
            with self._lock:
                self._experiments[name] = found
        return found

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
        self.db.dispose()


#: The variables a session depends on (not the per-process ones naming a run).
_SETTING_VARS = tuple(s.env for s in SETTINGS if s.name != "run_id")
_sessions: dict[tuple[object, ...], Session] = {}
_lookup: dict[tuple[object, ...], tuple[Path, int]] = {}
_lock = threading.Lock()


def _env_key() -> tuple[str | None, ...]:
    # The settings' variables only (iterating all of os.environ costs ~100 µs per call).
    get = os.environ.get
    return tuple(get(name) for name in _SETTING_VARS)


def get_session(start: Path | None = None) -> Session:
    """The session of the workspace at or above ``start`` (default: the current folder)."""
    env = _env_key()
    here = str(start) if start is not None else os.getcwd()
    lookup_key = (here, env)
    known = _lookup.get(lookup_key)
    if known is not None:
        root, mtime = known
        try:
            if (root / "keel.yaml").stat().st_mtime_ns == mtime:
                session = _sessions.get((root, env))
                if session is not None:
                    return session
        except OSError:
            pass
    workspace = open_workspace(Path(here))
    return _session_for(workspace, lookup_key, env)


def session_for_workspace(workspace: Workspace) -> Session:
    """The session of an already loaded workspace."""
    env = _env_key()
    return _session_for(workspace, (str(workspace.root), env), env)


def _session_for(
    workspace: Workspace, lookup_key: tuple[object, ...], env: tuple[str | None, ...]
) -> Session:
    mtime = (workspace.root / "keel.yaml").stat().st_mtime_ns
    key = (workspace.root, env)
    with _lock:
        session = _sessions.get(key)
        stale = session is not None and _lookup.get(lookup_key, (None, mtime))[1] != mtime
        if session is None or stale:
            if session is not None:
                session.close()
            session = Session(workspace)
            _sessions[key] = session
        _lookup[lookup_key] = (workspace.root, mtime)
    return session


def workspace_root(start: Path | None = None) -> Path | None:
    return find_root(start or Path.cwd())


def flush_all() -> None:
    """Write every session's buffer now (raises the first error)."""
    for session in list(_sessions.values()):
        session.flush()


def close_all() -> None:
    for session in list(_sessions.values()):
        session.close()
    _sessions.clear()
    _lookup.clear()


def _forget_in_child() -> None:
    _sessions.clear()
    _lookup.clear()


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(close_all)
