"""`keel quickstart`, end to end, asserting what it recorded (not what it printed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import reset_tracking, run_keel

pytestmark = pytest.mark.slow


def test_quickstart_records_three_tracked_trainings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_keel("quickstart", "demo", "--quiet", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    root = tmp_path / "demo"
    for path in (
        "keel.yaml",
        "keel.lock",
        "params.yaml",
        "src/train.py",
        "data/raw/wine.csv",
        ".keel/keel.db",
        ".git",
    ):
        assert (root / path).exists(), path

    import keel

    monkeypatch.chdir(root)
    try:
        runs = keel.search_runs(experiment="quickstart", order_by="params.max_depth")
        assert [r.params["max_depth"] for r in runs] == [1, 2, 3]
        for run in runs:
            assert run.status == "finished" and run.kind == "command"
            assert 0.5 < run.metrics["accuracy"] <= 1.0
            assert {"accuracy", "f1_macro", "accuracy_by_trees"} <= set(run.metrics)
            history = keel.get_metric_history(run.id, "accuracy_by_trees")
            assert [p.step for p in history] == [10, 20, 30, 40, 50, 60]
            names = {a.name for a in run.artifacts}
            assert names == {"confusion_matrix.json", "feature_importances.json", "stdout.log", "stderr.log"}
            assert [(d.path, d.rows) for d in run.inputs] == [("data/raw/wine.csv", 178)]
            git = run.context["git"]
            assert git["available"] and len(git["commit"]) == 40 and not git["dirty"]
        matrix = json.loads(
            keel.get_artifact(runs[0].id, "confusion_matrix.json", tmp_path / "cm.json").read_text()
        )
        assert len(matrix["matrix"]) == 3
        assert keel.dataset("data/raw/wine.csv").oid == runs[0].inputs[0].oid
    finally:
        reset_tracking()
    status = run_keel("data", "status", "--json", cwd=root)
    assert json.loads(status.stdout)[0]["state"] == "unchanged"
    again = run_keel("quickstart", "demo", cwd=tmp_path)
    assert again.returncode == 4 and "not empty" in again.stderr
