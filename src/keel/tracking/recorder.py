"""Opening runs without making them the process's active run.

``keel.start_run`` opens a run and pushes it on the active-run stack; code that records many
runs at once from several threads (pipeline stages) opens them here and logs through each
handle explicitly.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.core.ids import new_run_id
from keel.core.keys import check_name
from keel.core.values import RunKind
from keel.tracking.active_run import ActiveRun
from keel.tracking.session import Session


def open_run(
    session: Session,
    *,
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    parent_id: str | None = None,
    kind: str = RunKind.RUN.value,
    command: list[str] | None = None,
    code_root: Path | None = None,
) -> ActiveRun:
    """A new run (queued for the next write); everything is validated before anything is
    queued, so bad input writes nothing. ``code_root`` is where the run's code is, when not
    the workspace's root (a reproduction runs in a scratch worktree): git is read there."""
    experiment_name = check_name("experiment", experiment or session.workspace.settings.experiment)
    if name is not None:
        check_name("run name", name)
    run_id = new_run_id()
    start = time.time()
    holder = ActiveRun(session, run_id, experiment_name, name, parent_id, start, owned=True)
    param_rows = holder._param_rows(params or {})
    tag_rows = holder._tag_rows(tags or {})
    row = _run_row(session, run_id, experiment_name, name, parent_id, start, kind, command, code_root)
    session.writer.add(runs=[row], params=param_rows, tags=tag_rows)
    return holder


def _run_row(
    session: Session,
    run_id: str,
    experiment: str,
    name: str | None,
    parent_id: str | None,
    start: float,
    kind: str,
    command: list[str] | None,
    code_root: Path | None = None,
) -> dict[str, Any]:
    from keel.store.rows import run_row
    from keel.tracking.context import context_json, process_identity

    workspace = session.workspace
    context = context_json(code_root or workspace.root, workspace.settings, session.objects, command)
    host, user, pid, pid_start = process_identity()
    return run_row(
        run_id,
        session.experiment_id(experiment),
        name=name,
        kind=kind,
        parent_id=parent_id,
        start_time=start,
        username=user,
        host=host,
        pid=pid,
        pid_start=pid_start,
        context=context,
    )
