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
        inputs = {d.path: d.oid for d in stages["prepare"].inputs}
        assert inputs["data/raw/wine.csv"] == raw.oid
        assert {"checks/wine.schema.yaml", "checks/train.schema.yaml"} <= set(inputs)  # check files are deps
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

        sweeps = keel.search_runs(
            "attributes.kind = 'sweep'", experiment="quickstart", order_by="attributes.start_time"
        )
        assert len(sweeps) == 2 and sweeps[0].status == "finished"  # the depth sweep, then the weak model
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
        # 1 pipeline + 3 sweep points + 1 weak + 1 retrained + 1 registered again by the reproduction
        assert production.flavor == "sklearn" and len(registry.list_versions("wine")) == 7
        # the monitor rule retrained on drift and promoted version 6 (its checks passed)
        assert production.version == 6
        first, retrained = registry.alias_history("wine")
        best = registry.get_model_version(f"wine/{first.to_version}")
        made_by = keel.get_run(best.run_id or "")
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
        assert first.to_version in (2, 3, 4) and "best sweep accuracy" in (first.reason or "")
        assert retrained.to_version == 6 and "monitor wine-drift" in (retrained.reason or "")
        assert production.run_id in {u["id"] for u in [registry.lineage("wine@production")["run"]]}
        # lineage reaches the prepare run through the file inside the folder it wrote
        upstream = registry.lineage("wine/1")["upstream"]
        assert [u["name"] for u in upstream] == ["prepare"]
        assert upstream[0]["produced"][0]["path"] == "data/processed/train.csv"
        # the checks ran in the pipeline, and stopped the deliberately weak model (version 5)
        from keel.store.check_repo import latest_result, list_results
        from keel.tracking.session import get_session

        with get_session().db.read() as conn:
            records = list_results(conn, limit=100)
            passed_gate = latest_result(conn, f"wine/{first.to_version}", "checks/wine.model.yaml")
            weak = latest_result(conn, "wine/5", "checks/wine.model.yaml")
        assert {r.subject for r in records if r.kind == "data"} == {
            "data/raw/wine.csv",
            "data/processed/train.csv",
        }
        assert all(r.status == "passed" for r in records if r.kind == "data")
        assert passed_gate is not None and passed_gate.status == "passed"
        assert weak is not None and weak.status == "failed"
        weak_train = keel.get_run(registry.get_model_version("wine/5").run_id or "")
        assert weak_train.name == "train" and weak_train.status == "failed"
        assert [e.to_version for e in registry.alias_history("wine")] == [first.to_version, 6]
        # it was served: one logged prediction (with feedback) per test row
        from keel.serving.prediction_log import read_log

        test_rows = len(pd.read_csv(root / "data" / "processed" / "test.csv"))
        logged = read_log(root / ".keel" / "predictions", "wine")
        assert len(logged) == 2 * test_rows and set(logged["version"]) == {first.to_version}  # then drifted
        assert len(read_log(root / ".keel" / "predictions", "wine", "feedback")) == test_rows
        # the drift was found, reported in HTML, recorded as a monitor run, and the rule acted
        assert (root / "reports" / "drift.html").stat().st_size > 10_000
        monitors = keel.search_runs("attributes.kind = 'monitor'", experiment="monitoring")
        assert monitors and max(r.metrics["drift_share"] for r in monitors) > 0.5
        from keel.store.monitor_repo import events

        with get_session().db.read() as conn:
            assert [e.outcome for e in events(conn, "wine-drift")] == ["acted"]
        # a training run was reproduced identical, as a run that says which one it reproduces
        [again] = keel.search_runs("tags.`keel.reproduces` = '" + stages["train"].id + "'")
        assert again.tags["keel.reproduce.verdict"] == "identical"
        assert again.metrics["cv_accuracy"] == stages["train"].metrics["cv_accuracy"]
    finally:
        reset_tracking()
    assert json.loads(run_keel("data", "status", "--json", cwd=root).stdout)[0]["state"] == "unchanged"
    rerun = json.loads(run_keel("run", "--json", cwd=root).stdout)
    assert {s["state"] for s in rerun["stages"]} == {"unchanged"}
    again = run_keel("quickstart", "demo", cwd=tmp_path)
    assert again.returncode == 4 and "not empty" in again.stderr
