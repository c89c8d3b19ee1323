"""The scoring server as a real process on loopback: formats, validation, logs, aliases, shutdown."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import keel
from keel.models import registry
from tests.conftest import run_keel
from tests.models.server import serving, stop

ROW = {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}


@pytest.fixture
def iris_project(project: Path, iris: Any, iris_pipeline: Any) -> Path:
    X, _ = iris
    with keel.start_run(experiment="iris"):
        keel.log_model(iris_pipeline, "iris", input_example=X.head())
    registry.set_alias("iris", 1, "production")
    keel.flush()
    return project


def _log(project: Path, kind: str = "predictions") -> pd.DataFrame:
    from keel.serving.prediction_log import read_log

    return read_log(project / ".keel" / "predictions", "iris", kind)


def test_predict_formats_errors_and_endpoints(iris_project: Path, iris: Any, iris_pipeline: Any) -> None:
    X, _ = iris
    env = {"KEEL_SERVE_MAX_BODY_MB": "0.01", "KEEL_SERVE_LOG_FLUSH_SECONDS": "0.2"}
    with serving(iris_project, "iris@production", env) as (base, _):
        records = httpx.post(f"{base}/predict", json=X.head(3).to_dict("records"))
        assert records.status_code == 200, records.text
        body = records.json()
        assert (body["model"], body["version"]) == ("iris", 1)
        assert [p["prediction"] for p in body["predictions"]] == list(iris_pipeline.predict(X.head(3)))
        probabilities = body["predictions"][0]["probabilities"]
        assert set(probabilities) == {"0", "1", "2"} and sum(probabilities.values()) == pytest.approx(1)
        ids = [p["request_id"] for p in body["predictions"]]
        assert len(set(ids)) == 3
        split = httpx.post(f"{base}/predict", json={"columns": list(ROW), "data": [list(ROW.values())]})
        assert split.status_code == 200 and split.json()["predictions"][0]["prediction"] == 0
        mlflow_style = httpx.post(f"{base}/predict", json={"dataframe_records": [ROW]})
        assert mlflow_style.status_code == 200
        csv = httpx.post(
            f"{base}/predict", content=X.head(2).to_csv(index=False), headers={"content-type": "text/csv"}
        )
        assert csv.status_code == 200 and len(csv.json()["predictions"]) == 2

        wrong = httpx.post(
            f"{base}/predict",
            json=[{**ROW, "sepal length (cm)": "tall", "petal width (cm)": None, "extra": 1}],
        )
        assert wrong.status_code == 422
        # every problem at once: the unexpected column and the values of the others
        assert [e["field"] for e in wrong.json()["error"]["details"]["errors"]] == [
            "extra",
            "sepal length (cm)",
            "petal width (cm)",
        ]
        typed = httpx.post(
            f"{base}/predict", json=[{**ROW, "sepal length (cm)": "tall", "petal width (cm)": None}]
        )
        assert typed.status_code == 422
        errors = {e["field"]: e["error"] for e in typed.json()["error"]["details"]["errors"]}
        assert errors == {
            "sepal length (cm)": "expected float",
            "petal width (cm)": "null or NaN where the model needs a value",
        }
        missing = httpx.post(f"{base}/predict", json=[{"sepal length (cm)": 5.0}])
        assert missing.status_code == 422 and "missing column" in missing.text
        nan = httpx.post(
            f"{base}/predict",
            content='[{"sepal length (cm)": NaN, "sepal width (cm)": 1, "petal length (cm)": 1, "petal width (cm)": 1}]',
        )
        assert nan.status_code == 422
        for content in (b"{bad", b"", b"[1, 2]", b'{"columns": ["a"], "data": [[1, 2]]}', b'"text"'):
            bad = httpx.post(f"{base}/predict", content=content, headers={"content-type": "application/json"})
            assert bad.status_code == 400, (content, bad.text)
            assert set(bad.json()["error"]) == {"code", "message", "details"}
        bad_csv = httpx.post(f"{base}/predict", content=b'a,b\n"1,2\n', headers={"content-type": "text/csv"})
        assert bad_csv.status_code in (400, 422)
        huge = httpx.post(f"{base}/predict", json=[ROW] * 1000)
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
        assert httpx.get(f"{base}/nowhere").status_code == 404
        assert httpx.get(f"{base}/predict").status_code == 405

        assert httpx.get(f"{base}/health").json() == {"status": "ok"}
        meta = httpx.get(f"{base}/metadata").json()
        assert meta["version"] == 1 and meta["alias"] == "production" and meta["flavor"] == "sklearn"
        assert meta["signature"]["inputs"][0]["name"] == "sepal length (cm)"
        assert meta["lineage"]["run"]["experiment"] == "iris"
        metrics = httpx.get(f"{base}/metrics").text
        assert 'keel_requests_total{endpoint="predict",status="200"} 4.0' in metrics
        assert 'keel_requests_total{endpoint="predict",status="422"}' in metrics
        assert 'keel_requests_total{endpoint="predict",status="413"} 1.0' in metrics
        assert 'keel_predicted_class_total{label="0",version="1"}' in metrics
        assert "keel_request_latency_seconds_bucket" in metrics

        fed = httpx.post(f"{base}/feedback", json={"request_id": ids[0], "label": 0})
        assert fed.status_code == 202 and fed.json() == {"accepted": 1}
        for content in (
            b"{}",
            b"nope",
            b'{"request_id": "", "label": 1}',
            b'{"request_id": "a", "label": [1]}',
        ):
            assert httpx.post(f"{base}/feedback", content=content).status_code == 400

    log = _log(iris_project)
    assert len(log) == 7  # 3 + 1 + 1 + 2 rows answered; nothing for refused requests
    assert set(ids) <= set(log["request_id"])
    assert {"in.sepal length (cm)", "prediction", "proba.0", "version", "timestamp"} <= set(log.columns)
    assert set(log["prediction"]) <= {"0", "1", "2"}
    exported = iris_project / "out.csv"
    result = run_keel(
        "predictions", "export", "iris", "--since", "1h", "-o", str(exported), "--json", cwd=iris_project
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"model": "iris", "rows": 7, "labelled": 1, "output": str(exported)}
    table = pd.read_csv(exported)
    assert table.loc[table["request_id"] == ids[0], "label"].tolist() == [0]


def test_sigterm_flushes_every_logged_prediction(iris_project: Path) -> None:
    env = {"KEEL_SERVE_LOG_FLUSH_SECONDS": "3600", "KEEL_SERVE_LOG_MAX_ROWS": "1000000"}
    with serving(iris_project, "iris/1", env) as (base, proc):
        with httpx.Client() as client:
            for _ in range(40):
                assert client.post(f"{base}/predict", json=[ROW]).status_code == 200
        assert _log(iris_project).empty  # nothing written yet: only the shutdown flush will
        assert stop(proc) in (0, -15)  # uvicorn re-raises SIGTERM once it has shut down cleanly
    assert len(_log(iris_project)) == 40


def test_alias_move_is_followed_without_a_failed_request(iris_project: Path, iris: Any) -> None:
    from sklearn.tree import DecisionTreeClassifier

    X, y = iris
    with keel.start_run():
        keel.log_model(DecisionTreeClassifier(max_depth=1).fit(X, y), "iris", input_example=X.head())
    keel.flush()
    env = {"KEEL_SERVE_POLL_SECONDS": "0.2"}
    statuses: list[int] = []
    versions: list[int] = []
    done = threading.Event()
    with serving(iris_project, "iris@production", env) as (base, _):

        def traffic() -> None:
            with httpx.Client() as client:
                while not done.is_set():
                    answer = client.post(f"{base}/predict", json=[ROW])
                    statuses.append(answer.status_code)
                    if answer.status_code == 200:
                        versions.append(answer.json()["version"])

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            moved = run_keel("models", "alias", "iris", "2", "production", cwd=iris_project)
            assert moved.returncode == 0, moved.stderr
            for _ in range(150):
                if httpx.get(f"{base}/ready").json()["version"] == 2:
                    break
                threading.Event().wait(0.1)
            threading.Event().wait(0.5)
        finally:
            done.set()
            sender.join()
        assert httpx.get(f"{base}/metadata").json()["version"] == 2
    assert statuses and set(statuses) == {200}
    assert versions[0] == 1 and versions[-1] == 2
    assert versions == sorted(versions)  # never back to the old version once swapped


def test_serve_refuses_bad_starts(iris_project: Path) -> None:
    for args, code, text in [
        (("serve", "ghost"), 3, "No model named"),
        (("serve", "iris@staging"), 3, "no alias 'staging'"),
        (("serve", "iris/7"), 3, "no version 7"),
        (("serve", "iris@BAD"), 2, "Alias"),
    ]:
        result = run_keel(*args, cwd=iris_project)
        assert result.returncode == code, (args, result.stderr)
        assert text in result.stderr and "Traceback" not in result.stderr
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_keel("serve", "iris", "--port", str(port), cwd=iris_project)
    assert busy.returncode == 2 and "pick another --port" in busy.stderr


def test_batch_predict_and_its_bad_inputs(
    iris_project: Path, iris: Any, iris_pipeline: Any, tmp_path: Path
) -> None:
    X, _ = iris
    source = tmp_path / "rows.parquet"
    X.head(20).to_parquet(source)
    dest = tmp_path / "scored.csv"
    result = run_keel(
        "predict", "iris@production", "-i", str(source), "-o", str(dest), "--json", cwd=iris_project
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 20
    scored = pd.read_csv(dest)
    assert scored["prediction"].tolist() == list(iris_pipeline.predict(X.head(20)))
    assert {"proba.0", "proba.1", "proba.2"} <= set(scored.columns)
    bad_rows = tmp_path / "bad.csv"
    X.head(3).drop(columns=["petal width (cm)"]).to_csv(bad_rows, index=False)
    for args, code, text in [
        (("-i", str(tmp_path / "none.csv"), "-o", str(tmp_path / "o.csv")), 3, "does not exist"),
        (("-i", str(source), "-o", str(tmp_path / "o.xlsx")), 2, "unknown format"),
        (("-i", str(bad_rows), "-o", str(tmp_path / "o2.csv")), 2, "missing column"),
    ]:
        failed = run_keel("predict", "iris", *args, cwd=iris_project)
        assert failed.returncode == code, (args, failed.stderr)
        assert text in failed.stderr
    assert not (tmp_path / "o2.csv").exists() and not (tmp_path / "o.csv").exists()
    none = run_keel("predictions", "export", "iris", "-o", str(tmp_path / "p.csv"), cwd=iris_project)
    assert none.returncode == 3 and "No prediction log" in none.stderr
    since = run_keel(
        "predictions",
        "export",
        "iris",
        "--since",
        "yesterday",
        "-o",
        str(tmp_path / "p.csv"),
        cwd=iris_project,
    )
    assert since.returncode == 2 and "--since" in since.stderr
