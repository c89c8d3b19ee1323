"""The module-level tracking API (``keel.start_run``, ``keel.log_metric``, …).

A process has a stack of active runs: ``start_run`` while a run is active starts a child of
it. A process started by Keel (``keel track``, a pipeline stage) finds its run in
``KEEL_RUN_ID``: ``keel.log_*`` without ``start_run`` logs into it, and ``start_run()`` without
a ``parent`` resumes it. Runs still active when the interpreter exits are ended —
``failed`` if an uncaught exception is ending the process, else ``finished``.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from keel.core.entities import DatasetVersion, Run, RunKind, RunStatus
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.tracking.active_run import ActiveRun
from keel.tracking.recorder import open_run
from keel.tracking.session import Session, get_session

_stack: list[ActiveRun] = []
_stack_lock = threading.Lock()
_attached: dict[str, ActiveRun] = {}
_uncaught: str | None = None  # status for runs still active at exit, set by an uncaught exception


def start_run(
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent: ActiveRun | Run | str | None = None,
    *,
    kind: str = RunKind.RUN.value,
    command: list[str] | None = None,
    session: Session | None = None,
) -> ActiveRun:
    """Start recording a run and make it the active run.

    Example::

        with keel.start_run(experiment="churn", params={"lr": 0.1}) as run:
            keel.log_metric("loss", 0.3)
    """
    env_run = os.environ.get("KEEL_RUN_ID", "")
    if env_run and not _stack and parent is None:
        # Started by Keel: log into the run Keel made for this process (its experiment and
        # name were chosen by whoever started it; those given here are ignored).
        run = _attach(env_run)
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
        _push(run)
        return run
    session = session or get_session()
    parent_id, parent_experiment = _parent(session, parent)
    holder = open_run(
        session,
        experiment=experiment or parent_experiment,
        name=name,
        params=params,
        tags=tags,
        parent_id=parent_id,
        kind=kind,
        command=command,
    )
    _install_exit_hooks()
    _push(holder)
    return holder


def _parent(session: Session, parent: ActiveRun | Run | str | None) -> tuple[str | None, str | None]:
    if parent is None:
        top = active_run()
        return (top.id, top.experiment) if top is not None else (None, None)
    if isinstance(parent, ActiveRun | Run):
        return parent.id, parent.experiment
    if isinstance(parent, str):
        from keel.tracking.queries import get_run

        found = get_run(parent, session=session)
        return found.id, found.experiment
    raise InvalidInput(f"parent must be a run or a run id, not {type(parent).__name__}.")


def _attach(run_id: str) -> ActiveRun:
    """A handle on the run named by KEEL_RUN_ID, owned by the process that started us."""
    existing = _attached.get(run_id)
    if existing is not None and not existing._ended:
        return existing
    from sqlalchemy import select

    from keel.store.run_query import load_runs
    from keel.store.runs_repo import resolve_run_id
    from keel.store.schema import latest_metrics

    session = get_session()
    with session.db.read() as conn:
        try:
            full_id = resolve_run_id(conn, run_id)
        except NotFound:
            raise NotFound(
                f"KEEL_RUN_ID={run_id} names no run in {session.db.label}; unset KEEL_RUN_ID "
                "or start this script with `keel track`."
            ) from None
        (run,) = load_runs(conn, [full_id], with_artifacts=False)
        steps = {
            row.key: int(row.step) + 1
            for row in conn.execute(
                select(latest_metrics.c.key, latest_metrics.c.step).where(latest_metrics.c.run_id == full_id)
            )
        }
    if run.status != RunStatus.RUNNING.value:
        raise Conflict(
            f"KEEL_RUN_ID={run_id} names run {run.id[:12]}, which is {run.status}; nothing can be logged to it."
        )
    from keel.core.keys import param_value

    known = {key: (value, param_value(key, value)[1]) for key, value in run.params.items()}
    handle = ActiveRun(
        session,
        run.id,
        run.experiment,
        run.name,
        run.parent_id,
        run.start_time.timestamp(),
        owned=False,
        params=known,
        steps=steps,
    )
    _attached[run_id] = handle
    return handle


def _push(run: ActiveRun) -> None:
    with _stack_lock:
        _stack.append(run)


def _forget(run: ActiveRun) -> None:
    with _stack_lock:
        if run in _stack:
            _stack.remove(run)


def active_run() -> ActiveRun | None:
    """The innermost active run, or the run named by KEEL_RUN_ID, or None."""
    if _stack:
        return _stack[-1]
    env_run = os.environ.get("KEEL_RUN_ID", "")
    return _attach(env_run) if env_run else None


def _current() -> ActiveRun:
    if _stack:
        return _stack[-1]
    run = active_run()
    if run is None:
        raise InvalidInput(
            "No active run: call keel.start_run() first, or start the script with "
            "`keel track -- python script.py`."
        )
    return run


def end_run(status: str = RunStatus.FINISHED.value) -> None:
    """End the innermost active run (no-op when there is none)."""
    if _stack:
        _stack[-1].end(status)


def log_metric(
    key: str, value: float, step: int | None = None, timestamp: float | datetime | None = None
) -> None:
    """Log one value of a metric to the active run (see :meth:`ActiveRun.log_metric`)."""
    (_stack[-1] if _stack else _current()).log_metric(key, value, step, timestamp)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: float | datetime | None = None
) -> None:
    _current().log_metrics(metrics, step, timestamp)


def log_param(key: str, value: Any) -> None:
    _current().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _current().log_params(params)


def set_tag(key: str, value: Any) -> None:
    _current().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _current().set_tags(tags)


def log_artifact(path: str | Path, name: str | None = None) -> str:
    return _current().log_artifact(path, name)


def log_artifacts(folder: str | Path, prefix: str | None = None) -> dict[str, str]:
    return _current().log_artifacts(folder, prefix)


def log_dict(data: Any, name: str) -> str:
    return _current().log_dict(data, name)


def log_text(text: str, name: str) -> str:
    return _current().log_text(text, name)


def log_input(dataset: DatasetVersion) -> None:
    """Record that the active run read ``dataset`` (a version from ``keel.dataset(path)``)."""
    _current().log_input(dataset)


def log_output(dataset: DatasetVersion) -> None:
    """Record that the active run wrote ``dataset``."""
    _current().log_output(dataset)


def flush() -> None:
    """Make everything logged so far durable (raises a pending write error)."""
    from keel.tracking.session import flush_all

    flush_all()


# -- interpreter exit -----------------------------------------------------------------------

_hooks_installed = False


def _install_exit_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous = sys.excepthook

    def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        global _uncaught
        killed = issubclass(exc_type, KeyboardInterrupt)
        _uncaught = RunStatus.KILLED.value if killed else RunStatus.FAILED.value
        previous(exc_type, exc, tb)

    sys.excepthook = _excepthook
    atexit.register(_end_active_runs)


def _end_active_runs() -> None:
    status = _uncaught or RunStatus.FINISHED.value
    while _stack:
        run = _stack[-1]
        try:
            run.end(status)
        except Exception as exc:  # noqa: BLE001 - report, never raise at exit
            _forget(run)
            print(f"keel: could not end run {run.id[:12]}: {exc}", file=sys.stderr)
