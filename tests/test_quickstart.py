"""`keel quickstart`, end to end, asserting what it recorded (not what it printed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import reset_tracking, run_keel

pytestmark = pytest.mark.slow


def test_quickstart_versions_data_runs_the_pipeline_and_sweeps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_keel("quickstart", "demo", "--quiet", cwd=tmp_path, timeout=600)
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
    assert json.loads((root / "reports" / "metrics.json").read_text())["accuracy"] > 0.5

    import pandas as pd

    import keel
    from keel.models import registry

    monkeypatch.chdir(root)
    try:
        raw = keel.dataset("data/raw/wine.csv")
        assert raw.rows == 178
        pipelines = keel.search_runs(
            "attributes.kind = 'pipeline'", experiment="quickstart", order_by="attributes.start_time"
        )
        first = pipelines[0]
        assert first.status == "finished" and first.parent_id is None
        stages = {r.name: r for r in keel.search_runs(parent=first.id)}
        assert set(stages) == {"prepare", "train", "evaluate"}
        assert all(r.kind == "stage" and r.status == "finished" for r in stages.values())
        assert next((d.path, d.oid) for d in stages["prepare"].inputs) == ("data/raw/wine.csv", raw.oid)
        assert [d.path for d in stages["prepare"].outputs] == ["data/processed"]
        assert stages["train"].params["train.max_depth"] == 3
        assert [p.step for p in keel.get_metric_history(stages["train"].id, "cv_accuracy")] == [
            10,
            20,
            30,
            40,
            50,
            60,
        ]
        assert 0.5 < stages["evaluate"].metrics["accuracy"] <= 1.0
        assert stages["evaluate"].context["git"]["commit"]

        sweeps = keel.search_runs("attributes.kind = 'sweep'", experiment="quickstart")
        assert len(sweeps) == 1 and sweeps[0].status == "finished"
        points = keel.search_runs(parent=sweeps[0].id)
        assert sorted(p.params["set.train.max_depth"] for p in points) == [1, 2, 4]
        for point in points:
            names = {r.name: r for r in keel.search_runs(parent=point.id)}
            assert {"train", "evaluate"} <= set(names)
            assert names["train"].params["train.max_depth"] == point.params["set.train.max_depth"]
        prepares = keel.search_runs("attributes.name = 'prepare'", experiment="quickstart")
        assert [r.tags["keel.restored"] for r in prepares].count("false") == 1  # computed once

        # every training registered a version; the best sweep point's model is production
        production = keel.get_model_version("wine@production")
        assert production.flavor == "sklearn" and len(registry.list_versions("wine")) == 4
        made_by = keel.get_run(production.run_id or "")
        assert made_by.name == "train" and made_by.kind == "stage"
        best_point = keel.get_run(made_by.parent_id or "")
        assert best_point.parent_id == sweeps[0].id
        best_accuracy = max(
            r.metrics["accuracy"]
            for p in points
            for r in keel.search_runs(parent=p.id)
            if r.name == "evaluate"
        )
        chosen = next(r for r in keel.search_runs(parent=best_point.id) if r.name == "evaluate")
        assert chosen.metrics["accuracy"] == best_accuracy
        [event] = registry.alias_history("wine")
        assert event.to_version == production.version and "best sweep accuracy" in (event.reason or "")
        assert production.run_id in {u["id"] for u in [registry.lineage("wine@production")["run"]]}
        # it was served: one logged prediction (with feedback) per test row
        from keel.serving.prediction_log import read_log

        test_rows = len(pd.read_csv(root / "data" / "processed" / "test.csv"))
        logged = read_log(root / ".keel" / "predictions", "wine")
        assert len(logged) == test_rows and set(logged["version"]) == {production.version}
        assert len(read_log(root / ".keel" / "predictions", "wine", "feedback")) == test_rows
    finally:
        reset_tracking()
    assert json.loads(run_keel("data", "status", "--json", cwd=root).stdout)[0]["state"] == "unchanged"
    rerun = json.loads(run_keel("run", "--json", cwd=root).stdout)
    assert {s["state"] for s in rerun["stages"]} == {"unchanged"}
    again = run_keel("quickstart", "demo", cwd=tmp_path)
    assert again.returncode == 4 and "not empty" in again.stderr
