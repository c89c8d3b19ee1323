"""`keel run` for real: skipping, restoring, failing, running in parallel, locking."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_keel, run_python, start_keel
from tests.pipeline.conftest import make_pipeline_project


def _run(project: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = run_keel("run", *args, "--json", cwd=project, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    report["exit_code"] = result.returncode
    return report


def _states(report: dict[str, object]) -> dict[str, str]:
    return {s["name"]: s["state"] for s in report["stages"]}  # type: ignore[index, union-attr]


def _runs(project: Path, filter_text: str) -> list[dict[str, object]]:
    result = run_keel("runs", "list", "--filter", filter_text, "--json", "-n", "1000", cwd=project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_first_run_noop_change_and_restore(pipeline_project: Path) -> None:
    first = _run(pipeline_project)
    assert first["exit_code"] == 0 and first["ok"]
    assert _states(first) == {"prepare": "ran", "train": "ran", "evaluate": "ran"}
    assert json.loads((pipeline_project / "reports" / "metrics.json").read_text()) == {
        "score": 1.0,
        "rows": 3,
    }
    lock = (pipeline_project / "keel.lock").read_text()
    assert "stages:" in lock and "models/model.json" in lock

    # Each stage is a child run of the pipeline run, with params, inputs, outputs, metrics.
    stage_runs = _runs(pipeline_project, f"attributes.parent_id = '{first['run_id']}'")
    by_name = {r["name"]: r for r in stage_runs}
    assert set(by_name) == {"prepare", "train", "evaluate"}
    assert all(r["kind"] == "stage" and r["status"] == "finished" for r in stage_runs)
    assert by_name["train"]["params"] == {"train.lr": 0.1, "train.epochs": 3}
    assert by_name["train"]["metrics"] == {"rows_seen": 3.0}  # logged by the script via KEEL_RUN_ID
    assert by_name["evaluate"]["metrics"] == {"score": 1.0, "rows": 3.0}  # from its metrics file
    assert [i["path"] for i in by_name["train"]["inputs"]] == ["data/processed", "src/train.py"]
    assert [o["path"] for o in by_name["train"]["outputs"]] == ["models/model.json"]

    again = _run(pipeline_project)
    assert _states(again) == {"prepare": "unchanged", "train": "unchanged", "evaluate": "unchanged"}
    assert again["run_id"] is None  # nothing ran: nothing recorded

    (pipeline_project / "params.yaml").write_text("train:\n  lr: 0.2\n  epochs: 3\n")
    dry = _run(pipeline_project, "--dry")
    reasons = {s["name"]: s["reason"] for s in dry["stages"]}  # type: ignore[union-attr]
    assert _states(dry) == {"prepare": "unchanged", "train": "would run", "evaluate": "would run"}
    assert reasons["train"] == "changed params: train.lr"
    assert reasons["evaluate"] == "upstream train would run"
    changed = _run(pipeline_project)
    assert _states(changed) == {"prepare": "unchanged", "train": "ran", "evaluate": "ran"}
    assert json.loads((pipeline_project / "reports" / "metrics.json").read_text())["score"] == 2.0

    (pipeline_project / "params.yaml").write_text("train:\n  lr: 0.1\n  epochs: 3\n")
    back = _run(pipeline_project)  # inputs seen before: outputs come from the run cache
    assert _states(back) == {"prepare": "unchanged", "train": "restored", "evaluate": "restored"}
    assert json.loads((pipeline_project / "reports" / "metrics.json").read_text())["score"] == 1.0

    shutil.rmtree(pipeline_project / "data" / "processed")
    assert _states(_run(pipeline_project))["prepare"] == "restored"
    assert (pipeline_project / "data" / "processed" / "rows.csv").read_text() == "A\nB\nC\n"

    (pipeline_project / "data" / "raw" / "rows.csv").write_text("a\nb\nc\nd\n")
    dry = _run(pipeline_project, "--dry")
    assert dry["stages"][0]["reason"] == "changed dependencies: data/raw"  # type: ignore[index]
    forced = _run(pipeline_project, "--force", "train")
    assert list(_states(forced)) == ["prepare", "train"]  # train and its upstream only
    assert set(_states(forced).values()) == {"ran"}


def test_a_run_with_nothing_to_do_loads_only_what_deciding_needs(pipeline_project: Path) -> None:
    assert _run(pipeline_project)["ok"]
    probe = (
        "import sys\nfrom keel.cli.entry import main\ntry:\n    main(['run'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    result = run_python(probe, cwd=pipeline_project)  # piped, as scripts and CI run it
    *table, modules = result.stdout.splitlines()
    assert [line.split()[:2] for line in table if "unchanged" in line] == [
        ["prepare", "unchanged"],
        ["train", "unchanged"],
        ["evaluate", "unchanged"],
    ]
    loaded = {name.split(".")[0] for name in modules.split()}
    assert not loaded & {
        "click",
        "rich",
        "sqlalchemy",
        "subprocess",
        "tempfile",
        "yaml",
        "concurrent",
        "logging",
        "dataclasses",
    }, loaded


def test_a_first_run_records_its_runs_without_sqlalchemy(pipeline_project: Path) -> None:
    # `keel init` created the SQLite store; recording runs then goes through sqlite3 alone.
    assert (pipeline_project / ".keel" / "keel.db").is_file()
    assert (pipeline_project / ".keel" / "state.db").is_file()
    probe = (
        "import sys\nfrom keel.cli.entry import main\ntry:\n    main(['run'])\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    result = run_python(probe, cwd=pipeline_project)
    *table, modules = result.stdout.splitlines()
    assert [line.split()[:2] for line in table if " ran " in line] == [
        ["prepare", "ran"],
        ["train", "ran"],
        ["evaluate", "ran"],
    ], result.stdout + result.stderr
    loaded = {name.split(".")[0] for name in modules.split()}
    # dataclasses (which loads inspect) and their creation cost a first run ~16 ms
    assert not loaded & {"sqlalchemy", "alembic", "click", "rich", "concurrent", "tempfile", "dataclasses"}, (
        loaded
    )
    runs = _runs(pipeline_project, "attributes.kind = 'stage'")
    assert sorted(r["name"] for r in runs) == ["evaluate", "prepare", "train"]
    assert all(r["status"] == "finished" for r in runs)
    by_name = {r["name"]: r for r in runs}
    assert by_name["evaluate"]["metrics"] == {"score": 1.0, "rows": 3.0}
    assert by_name["train"]["params"] == {"train.lr": 0.1, "train.epochs": 3}
    # The runs' context (captured on a thread while the first stage started) is recorded.
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=pipeline_project, capture_output=True, text=True, check=True
    ).stdout.strip()
    for run in runs + _runs(pipeline_project, "attributes.kind = 'pipeline'"):
        shown = run_keel("runs", "show", str(run["id"]), "--json", cwd=pipeline_project)
        assert json.loads(shown.stdout)["context"]["git"]["commit"] == head, run["name"]
    assert not list((pipeline_project / ".keel" / "tmp").iterdir())  # the stages' logs are stored, then gone
    again = _run(pipeline_project, "--force", "train")  # the run cache's key exists: kept, no error
    assert again["ok"] and _states(again)["train"] == "ran"


def test_a_failing_stage_stops_its_dependents_only(tmp_path: Path) -> None:
    stages = """
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw, src/prepare.py]
    outs: [data/processed]
  broken:
    cmd: python -c "import sys; print('something went wrong', file=sys.stderr); sys.exit(3)"
    deps: [data/processed]
    outs: [models/broken.bin]
  after_broken:
    cmd: echo never > reports/never.txt
    deps: [models/broken.bin]
    outs: [reports/never.txt]
  independent:
    cmd: echo fine > reports/fine.txt
    deps: [data/raw]
    outs: [reports/fine.txt]
"""
    project = make_pipeline_project(tmp_path / "proj", stages)
    result = run_keel("run", cwd=project)
    assert result.returncode == 1
    assert "something went wrong" in result.stdout
    report = _run(project)
    states = _states(report)
    assert states == {
        "prepare": "unchanged",
        "broken": "failed",
        "after_broken": "skipped",
        "independent": "unchanged",
    }
    assert report["exit_code"] == 1
    broken = next(s for s in report["stages"] if s["name"] == "broken")  # type: ignore[union-attr]
    assert broken["reason"] == "exit code 3" and "something went wrong" in broken["error"]
    assert (project / "reports" / "fine.txt").exists()
    assert "models/broken.bin" not in (project / "keel.lock").read_text()  # failed outputs are not recorded
    failed = _runs(project, "attributes.name = 'broken'")
    assert {r["status"] for r in failed} == {"failed"}

    # Fix the stage: the next run resumes where the failure stopped.
    keel_yaml = project / "keel.yaml"
    keel_yaml.write_text(
        keel_yaml.read_text().replace(
            '''python -c "import sys; print('something went wrong', file=sys.stderr); sys.exit(3)"''',
            "python -c \"import pathlib; pathlib.Path('models/broken.bin').write_bytes(b'ok')\"",
        )
    )
    resumed = _run(project)
    assert _states(resumed) == {
        "prepare": "unchanged",
        "broken": "ran",
        "after_broken": "ran",
        "independent": "unchanged",
    }


def test_a_stage_that_does_not_write_its_output_fails(tmp_path: Path) -> None:
    stages = "\nstages:\n  lazy:\n    cmd: echo nothing\n    outs: [models/missing.bin]\n"
    project = make_pipeline_project(tmp_path / "proj", stages)
    report = _run(project)
    assert report["exit_code"] == 1
    assert report["stages"][0]["reason"] == "it did not write models/missing.bin"  # type: ignore[index]


def test_independent_stages_run_at_the_same_time(tmp_path: Path) -> None:
    # Each stage records when it started and ended; with -j 2 the intervals overlap.
    stages = "\nstages:\n" + "".join(
        f"""  s{i}:
    cmd: python -c "import time, pathlib; a=time.time(); time.sleep(1.5); pathlib.Path('reports/s{i}.txt').write_text(f'{{a}} {{time.time()}}')"
    outs: [reports/s{i}.txt]
"""
        for i in range(2)
    )
    project = make_pipeline_project(tmp_path / "proj", stages)
    report = _run(project, "-j", "2")
    assert set(_states(report).values()) == {"ran"}
    (a0, b0), (a1, b1) = (
        [float(x) for x in (project / "reports" / f"s{i}.txt").read_text().split()] for i in range(2)
    )
    assert a1 < b0 and a0 < b1  # the two stages ran at once
    serial = make_pipeline_project(tmp_path / "serial", stages)
    _run(serial, "-j", "1")
    (a0, b0), (a1, b1) = (
        [float(x) for x in (serial / "reports" / f"s{i}.txt").read_text().split()] for i in range(2)
    )
    assert b0 <= a1 or b1 <= a0  # one after the other


def test_two_runs_at_once_lock_only_the_same_outputs(tmp_path: Path) -> None:
    stages = """
stages:
  slow:
    cmd: python -c "import time, pathlib; time.sleep(4); pathlib.Path('reports/slow.txt').write_text('x')"
    outs: [reports/slow.txt]
  other:
    cmd: echo other > reports/other.txt
    outs: [reports/other.txt]
"""
    project = make_pipeline_project(tmp_path / "proj", stages)
    first = start_keel("run", "slow", "--json", cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    locks = project / ".keel" / "locks"
    deadline = time.time() + 30
    while time.time() < deadline and not (locks.exists() and any(locks.glob("*.lock"))):
        time.sleep(0.05)  # the first run holds the output's lock once its lock file exists
    blocked = _run(project, "slow")
    assert blocked["exit_code"] == 1
    assert "being written by another `keel run`" in blocked["stages"][0]["reason"]  # type: ignore[index]
    free = _run(project, "other")
    assert _states(free) == {"other": "ran"}
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert _states(json.loads(out)) == {"slow": "ran"}


def test_dag_outputs(pipeline_project: Path) -> None:
    text = run_keel("dag", cwd=pipeline_project).stdout
    assert text.splitlines() == ["prepare", "train  ← prepare", "evaluate  ← train"]
    assert "s_prepare --> s_train" in run_keel("dag", "--mermaid", cwd=pipeline_project).stdout
    assert '"train" -> "evaluate";' in run_keel("dag", "--dot", cwd=pipeline_project).stdout
    graph = json.loads(run_keel("dag", "--json", cwd=pipeline_project).stdout)
    assert graph["edges"] == [["prepare", "train"], ["train", "evaluate"]]


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "nosuchstage"], 3, "No stage named 'nosuchstage'"),
        (["run", "--set", "train.lr"], 2, "must look like KEY=VALUE"),
        (["run", "--set", "nothing.reads.this=1,2"], 2, "params.yaml has no key nothing.reads.this"),
        (
            ["run", "--set", "train.nope=3", "--dry"],
            2,
            "params.yaml has no key train.nope (its keys: train.epochs, train.lr)",
        ),
        (["run", "--executor", "spaceship"], 2, "Unknown executor"),
        (["run", "--executor", "dask-local"], 2, "add one first"),
        (["run", "-j", "0"], 2, "0 is not in the range"),
    ],
)
def test_bad_input(pipeline_project: Path, args: list[str], code: int, fragment: str) -> None:
    result = run_keel(*args, cwd=pipeline_project)
    assert result.returncode == code, result.stdout + result.stderr
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_an_interrupted_pipeline_is_recorded_as_failed(tmp_path: Path) -> None:
    import signal

    project = make_pipeline_project(
        tmp_path / "proj",
        stages="stages:\n  wait:\n    cmd: sleep 5\n    outs: [never.txt]\n  after:\n"
        "    cmd: touch after.txt\n    deps: [never.txt]\n    outs: [after.txt]\n",
    )
    process = start_keel(
        "run",
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # Ctrl-C reaches the whole process group, stage commands too
    )
    deadline = time.monotonic() + 30
    while not list((project / ".keel" / "tmp").glob("stage-*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the stage's command has started
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Interrupted." in err and "Traceback" not in err
    runs = {r["name"]: r["status"] for r in _runs(project, "attributes.kind != 'run'")}
    assert runs == {"pipeline": "failed", "wait": "failed"}
    assert not (project / "after.txt").exists()


def test_dependents_start_while_a_stage_is_still_being_recorded(
    pipeline_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once a stage's outputs are stored and its state written, its dependents start; its
    run is ended and its execution added to the run cache meanwhile."""
    import threading

    from keel.core.workspace import open_workspace
    from keel.data.lockfile import read_lock
    from keel.pipeline.runner import PipelineRunner, run_pipeline
    from keel.store import stage_cache_repo

    train_started = threading.Event()
    execute, cached = PipelineRunner._execute, stage_cache_repo.remember

    def slow_remember(db: Any, key: str, stage: str, *args: Any) -> None:
        if stage == "prepare":  # fails the stage (and skips train) unless train starts
            assert train_started.wait(15), "train did not start while prepare was remembered"
        cached(db, key, stage, *args)

    def noted_execute(self: PipelineRunner, stage: Any, *args: Any) -> None:
        if stage.name == "train":
            train_started.set()
        execute(self, stage, *args)

    monkeypatch.setattr(stage_cache_repo, "remember", slow_remember)
    monkeypatch.setattr(PipelineRunner, "_execute", noted_execute)
    report = run_pipeline(open_workspace(pipeline_project), jobs=2)
    assert {name: r.state for name, r in report.stages.items()} == {
        "prepare": "ran",
        "train": "ran",
        "evaluate": "ran",
    }
    assert set(read_lock(pipeline_project).extra["stages"]) == {"prepare", "train", "evaluate"}
