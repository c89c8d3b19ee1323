"""Concurrent writers and killed processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import keel

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("backend")]

_WRITER = """
import sys, time, keel
start = float(sys.argv[1])
index = int(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
with keel.start_run(experiment="stress", name=f"writer-{index}") as run:
    for step in range(10_000):
        keel.log_metric("value", float(index * 10_000 + step), step=step)
print(run.id)
"""


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()}


def test_eight_processes_log_ten_thousand_points_each(project: Path) -> None:
    start = time.time() + 3.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(start), str(i)],
            cwd=project,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [p.communicate(timeout=240) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert err == "", err
    run_ids = [out.strip() for out, _ in outputs]
    runs = keel.search_runs(experiment="stress", max_results=100)
    assert sorted(r.id for r in runs) == sorted(run_ids)
    assert all(r.status == "finished" for r in runs)
    total = 0
    for run in runs:
        index = int(run.name.split("-")[1])
        history = keel.get_metric_history(run.id, "value")
        assert [p.step for p in history] == list(range(10_000))
        assert [p.value for p in history] == [float(index * 10_000 + s) for s in range(10_000)]
        total += len(history)
    assert total == 80_000


_VICTIM = """
import sys, keel
run = keel.start_run(experiment="victim")
for step in range(5_000):
    keel.log_metric("flushed", float(step), step=step)
keel.log_param("phase", "before-kill")
keel.flush()
print(run.id, flush=True)
step = 0
while True:  # keep logging (and writing in the background) until killed
    keel.log_metric("unflushed", float(step), step=step)
    step += 1
"""


def test_sigkill_leaves_the_store_intact_and_flushed_data_readable(project: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _VICTIM],
        cwd=project,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, proc.stderr.read() if proc.stderr else ""
    time.sleep(1.5)  # let background batches be written, and one perhaps be cut off
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    run = keel.get_run(run_id)
    assert run.status == "dead"
    assert run.params == {"phase": "before-kill"}
    history = keel.get_metric_history(run_id, "flushed")
    assert [p.step for p in history] == list(range(5_000))
    # Whatever background batches committed before the kill are whole: steps 0..n-1, no gaps.
    partial = (
        [p.step for p in keel.get_metric_history(run_id, "unflushed")] if "unflushed" in run.metrics else []
    )
    assert partial == list(range(len(partial)))
    from keel.tracking.session import get_session

    session = get_session()
    if session.db.dialect == "sqlite":
        import sqlite3

        conn = sqlite3.connect(session.db.sqlite_path)  # type: ignore[arg-type]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
    # The store keeps working after the kill.
    with keel.start_run(experiment="after") as after:
        keel.log_metric("ok", 1.0)
    assert keel.get_run(after.id).metrics == {"ok": 1.0}
