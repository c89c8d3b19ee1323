"""`keel run --set`: a grid of combinations, shared upstream stages computed once."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_keel


def test_sweep_runs_the_grid_and_shares_upstream(pipeline_project: Path) -> None:
    result = run_keel(
        "run",
        "--set",
        "train.lr=0.1,0.3",
        "--set",
        "train.epochs=1,2",
        "--sort",
        "-metrics.score",
        "--json",
        cwd=pipeline_project,
    )
    assert result.returncode == 0, result.stderr
    sweep = json.loads(result.stdout)
    assert sweep["grid"] == {"train.lr": [0.1, 0.3], "train.epochs": [1, 2]}
    points = sweep["points"]
    assert len(points) == 4 and all(p["ok"] for p in points)
    assert [p["metrics"]["score"] for p in points] == [3.0, 3.0, 1.0, 1.0]  # sorted, descending
    assert {(p["overrides"]["train.lr"], p["overrides"]["train.epochs"]) for p in points} == {
        (0.1, 1),
        (0.1, 2),
        (0.3, 1),
        (0.3, 2),
    }
    runs = json.loads(run_keel("runs", "list", "--json", "-n", "1000", cwd=pipeline_project).stdout)
    prepare = [r for r in runs if r["name"] == "prepare"]
    executed = [r for r in prepare if r["tags"].get("keel.restored") == "false"]
    assert len(executed) == 1  # the shared stage ran once; every combination restored it
    trains = [r for r in runs if r["name"] == "train"]
    assert sorted(r["params"]["train.lr"] for r in trains) == [0.1, 0.1, 0.3, 0.3]
    sweep_run = next(r for r in runs if r["kind"] == "sweep")
    pipelines = [r for r in runs if r["kind"] == "pipeline"]
    assert all(p["parent_id"] == sweep_run["id"] for p in pipelines)
    # The project itself was not changed by the combinations.
    assert "lr: 0.1" in (pipeline_project / "params.yaml").read_text()
    assert not (pipeline_project / "models" / "model.json").exists()
    table = run_keel("run", "--set", "train.lr=0.5", cwd=pipeline_project)
    assert table.returncode == 0 and "Sweep" in table.stdout and "0.5" in table.stdout


def test_sort_by_an_unknown_metric(pipeline_project: Path) -> None:
    result = run_keel("run", "--set", "train.lr=0.1", "--sort", "-metrics.nope", cwd=pipeline_project)
    assert result.returncode == 2 and "no stage logged a metric 'nope'" in result.stderr


def test_a_failed_point_says_where_and_why(pipeline_project: Path) -> None:
    train = pipeline_project / "src" / "train.py"
    train.write_text(train.read_text() + "\nif params['lr'] > 1: raise SystemExit('lr too large')\n")
    result = run_keel("run", "--set", "train.lr=0.1,5", "--json", cwd=pipeline_project)
    assert result.returncode == 1
    points = {p["overrides"]["train.lr"]: p for p in json.loads(result.stdout)["points"]}
    assert points[0.1]["ok"] and points[0.1]["error"] is None
    assert not points[5]["ok"] and points[5]["error"] == "train: exit code 1"
    text = run_keel("run", "--set", "train.lr=5", cwd=pipeline_project)
    assert "failed at train: exit code 1" in text.stdout


def test_a_failing_shared_stage_fails_the_sweep_with_a_table_not_a_traceback(pipeline_project: Path) -> None:
    prepare = pipeline_project / "src" / "prepare.py"
    prepare.write_text("raise SystemExit('no raw data today')\n")
    result = run_keel("run", "--set", "train.lr=0.1,5", cwd=pipeline_project)
    assert result.returncode == 1
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "failed at prepare: exit code 1" in result.stdout


def test_a_dry_sweep_says_what_each_point_would_run_and_records_nothing(pipeline_project: Path) -> None:
    assert run_keel("run", cwd=pipeline_project).returncode == 0
    before = json.loads(run_keel("runs", "list", "--json", cwd=pipeline_project).stdout)
    result = run_keel("run", "--dry", "--set", "train.lr=0.1,0.7", "--json", cwd=pipeline_project)
    assert result.returncode == 0, result.stderr
    points = {
        p["overrides"]["train.lr"]: {s["name"]: s["state"] for s in p["stages"]}
        for p in json.loads(result.stdout)["points"]
    }
    assert points[0.1] == {"prepare": "unchanged", "train": "unchanged", "evaluate": "unchanged"}
    assert points[0.7] == {"prepare": "unchanged", "train": "would run", "evaluate": "would run"}
    text = run_keel("run", "--dry", "--set", "train.lr=0.7", cwd=pipeline_project).stdout
    assert "train.lr=0.7" in text and "nothing ran (--dry)" in text
    after = json.loads(run_keel("runs", "list", "--json", cwd=pipeline_project).stdout)
    assert len(after) == len(before)  # no run recorded
    assert not (pipeline_project / "models" / "model.json").read_text().count("0.7")
