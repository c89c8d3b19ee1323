"""The context runs record: captured once a process, also ahead of the first run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import keel
from keel.core.workspace import open_workspace
from keel.tracking import context


def test_a_context_captured_ahead_is_the_one_runs_record(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    git = context.start_git

    def counted(root: Path, *args: str) -> Any:
        calls.append(args)
        return git(root, *args)

    monkeypatch.setattr(context, "start_git", counted)
    workspace = open_workspace(project)
    thread = context.capture_soon(workspace)
    assert context.capture_soon(workspace) is thread  # one capture per workspace and process
    thread.join()
    assert [args[0] for args in calls] == ["status", "config"]  # at once; not a git repo: no diff

    with keel.start_run() as run:
        pass
    recorded = keel.get_run(run.id).context
    assert recorded["git"] == {"available": False, "note": "not a git repository"}
    assert recorded["packages"]["count"] > 0
    assert len(calls) == 2  # the run shared the capture
