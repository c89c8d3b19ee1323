"""Monitoring end to end: a served model's traffic, drift reports, monitor runs, gauges,
and a monitor rule that retrains, promotes through the gate and calls a webhook."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from keel.core.errors import ConfigError
from keel.core.yaml_file import load_yaml_mapping
from keel.monitor.rules import parse_monitors
from tests.conftest import run_keel
from tests.models.server import serving

TRAIN_PY = """
import keel, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
frame = pd.read_csv("data/train.csv")
X, y = frame.drop(columns="species"), frame["species"]
c = keel.params()["train"]["c"]
model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(X, y)
keel.log_model(model, "iris", input_example=X.head())
open("trained.txt", "w").write(str(c))
"""

STAGES = """
stages:
  train:
    cmd: python train.py
    deps: [data/train.csv, train.py]
    params: [train]
    outs: [trained.txt]
    checks:
      - {model: iris, spec: checks/iris.model.yaml}
"""


@pytest.fixture
def served_project(project: Path, iris: Any) -> Path:
    """A project whose pipeline trained iris/1 from data/train.csv, promoted to production."""
    X, y = iris
    (project / "data").mkdir(exist_ok=True)
    X.assign(species=y).to_csv(project / "data" / "train.csv", index=False)
    (project / "train.py").write_text(TRAIN_PY)
    (project / "params.yaml").write_text("train:\n  c: 1.0\n")
    (project / "checks").mkdir(exist_ok=True)
    (project / "checks" / "iris.model.yaml").write_text(
        "model: iris\nrequired_for: [production]\ndata: data/train.csv\nlabel: species\n"
        "checks: [{metric: accuracy, min: 0.9}]\n"
    )
    (project / "keel.yaml").write_text((project / "keel.yaml").read_text() + STAGES)
    first = run_keel("run", cwd=project, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert run_keel("models", "alias", "iris", "1", "production", cwd=project).returncode == 0
    return project


def _send(base: str, rows: list[dict[str, Any]], labels: list[int] | None = None) -> None:
    for index, row in enumerate(rows):
        answer = httpx.post(f"{base}/predict", json=[row])
        assert answer.status_code == 200, answer.text
        if labels is not None:
            rid = answer.json()["predictions"][0]["request_id"]
            assert (
                httpx.post(f"{base}/feedback", json={"request_id": rid, "label": labels[index]}).status_code
                == 202
            )


def _drifted(X: pd.DataFrame) -> list[dict[str, Any]]:
    shifted = X.sample(150, random_state=3).copy()
    for column in X.columns:
        shifted[column] = shifted[column] * 1.6 + 1.0
    return shifted.to_dict("records")


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/keel", received
    finally:
        server.shutdown()
        server.server_close()


def test_drift_report_history_gauges_and_a_rule_that_retrains(
    served_project: Path, iris: Any, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    X, y = iris
    url, received = webhook
    env = {"KEEL_SERVE_LOG_FLUSH_SECONDS": "0.2", "KEEL_SERVE_POLL_SECONDS": "0.2"}
    with serving(served_project, "iris@production", env) as (base, _):
        sample = X.sample(120, random_state=1)
        _send(base, sample.to_dict("records"), [int(v) for v in y[sample.index]])
        import time

        time.sleep(0.6)  # the log flushes every 0.2 s
        calm = run_keel("monitor", "drift", "--model", "iris@production", "--json", cwd=served_project)
        assert calm.returncode == 0, calm.stderr
        body = json.loads(calm.stdout)
        assert body["dataset_drift"] is False and body["current"]["rows"] == 120
        assert body["reference"]["label"].startswith("data/train.csv")  # the training data, by default
        assert (
            body["performance"]["labelled"] == 120
            and body["performance"]["metrics"]["accuracy"]["current"] > 0.9
        )
        assert body["prediction"]["drifted"] is False
        assert body["run_id"]
        # the server exports the latest evaluation as gauges
        deadline = time.monotonic() + 10
        # The families are listed from the start; their samples appear once the server has
        # read the evaluation (it polls every 0.2 s here).
        while 'keel_model_performance{metric="accuracy"}' not in (
            metrics := httpx.get(f"{base}/metrics").text
        ):
            assert time.monotonic() < deadline, "gauges never appeared"
            time.sleep(0.2)
        assert "keel_drift_share" in metrics

        _send(base, _drifted(X))
        time.sleep(0.6)
    html = served_project / "drift.html"
    drifted = run_keel(
        "monitor",
        "drift",
        "--model",
        "iris@production",
        "--html",
        str(html),
        "--fail-on-drift",
        cwd=served_project,
    )
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert "DRIFT" in drifted.stdout and html.stat().st_size < 1_000_000
    page = html.read_text()
    assert "<svg" in page and "petal length (cm)" in page and "http://" not in page.replace(url, "")

    (served_project / "keel.yaml").write_text(
        (served_project / "keel.yaml").read_text()
        + textwrap.dedent(
            f"""
            monitors:
              iris-drift:
                model: iris@production
                since: 1h
                when: [drift_share > 0.3, accuracy < 0.5]
                actions:
                  - run: {{params: {{train.c: 0.5}}, promote: true}}
                  - webhook: {url}
                cooldown: 1h
            """
        )
    )
    dry = run_keel("monitor", "run", "--dry-run", "--json", cwd=served_project)
    assert dry.returncode == 0 and json.loads(dry.stdout)[0]["outcome"] == "dry-run"
    acted = run_keel("monitor", "run", "--json", cwd=served_project, timeout=300)
    assert acted.returncode == 0, acted.stdout + acted.stderr
    [decision] = json.loads(acted.stdout)
    assert decision["fired"] and decision["outcome"] == "acted" and "drift_share" in decision["reason"]
    assert decision["promoted"] == 2  # retrained (scratch copy, train.c=0.5), checks passed, promoted
    assert received and received[0]["monitor"] == "iris-drift" and received[0]["figures"]["drift_share"] > 0.3
    assert (served_project / "params.yaml").read_text() == "train:\n  c: 1.0\n"  # the workspace is untouched
    production = json.loads(
        run_keel("models", "show", "iris@production", "--json", cwd=served_project).stdout
    )
    assert production["version"] == 2
    again = json.loads(run_keel("monitor", "run", "--json", cwd=served_project, timeout=300).stdout)
    assert again[0]["outcome"] == "cooldown"
    watched = run_keel("monitor", "watch", "--every", "1s", "--times", "2", cwd=served_project, timeout=300)
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.count("iris-drift: cooldown") == 2  # two rounds, a second apart
    history = json.loads(run_keel("monitor", "history", "iris-drift", "--json", cwd=served_project).stdout)
    assert [e["outcome"] for e in history] == ["cooldown", "cooldown", "cooldown", "acted", "dry-run"]
    runs = json.loads(
        run_keel(
            "runs", "list", "--filter", "attributes.kind = 'monitor'", "--json", cwd=served_project
        ).stdout
    )
    assert len(runs) >= 5 and all("drift_share" in r["metrics"] for r in runs)


def test_monitor_errors_are_clear(served_project: Path, tmp_path: Path) -> None:
    for args, code, message in (
        (("monitor", "drift", "--model", "iris@production"), 3, "No prediction log for model 'iris'"),
        (("monitor", "drift"), 2, "Give --model NAME@ALIAS"),
        (("monitor", "drift", "--current", "data/train.csv"), 2, "--current needs --reference"),
        (("monitor", "drift", "--current", "nope.csv", "--reference", "data/train.csv"), 2, "does not exist"),
        (
            ("monitor", "drift", "--current", "data/train.csv", "--reference", "data/train.csv@nope"),
            2,
            "git",
        ),
        (
            (
                "monitor",
                "drift",
                "--current",
                "data/train.csv",
                "--reference",
                "data/train.csv",
                "--test",
                "x=ks",
            ),
            2,
            "x",
        ),
        (("monitor", "run", "ghost"), 3, "No monitor 'ghost'"),
        (("monitor", "watch", "--every", "soon"), 2, "not a duration"),
    ):
        result = run_keel(*args, cwd=served_project)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    kinds = run_keel(
        "monitor", "drift", "--current", "data/train.csv", "--reference", "data/train.csv",
        "--kind", "species=categorical", "--json", "--no-record", cwd=served_project,
    )  # fmt: skip
    assert kinds.returncode == 0, kinds.stderr
    species = next(c for c in json.loads(kinds.stdout)["columns"] if c["column"] == "species")
    assert species["kind"] == "categorical" and species["test"] == "chisquare"
    bad_kind = run_keel(
        "monitor", "drift", "--current", "data/train.csv", "--reference", "data/train.csv",
        "--kind", "species=shape", cwd=served_project,
    )  # fmt: skip
    assert bad_kind.returncode == 2 and "use one of numeric" in bad_kind.stderr
    other = tmp_path / "other.csv"
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(other, index=False)
    mismatch = run_keel(
        "monitor", "drift", "--current", str(other), "--reference", "data/train.csv", cwd=served_project
    )
    assert (mismatch.returncode == 2 and "none of the reference columns" in mismatch.stderr.lower()) or (
        "shares no column" in mismatch.stderr
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("monitors: {m: {model: iris, when: drift_share > 1}}", "names a model by alias"),
        ("monitors: {m: {model: iris@production, when: drift_share >> 1}}", "is not METRIC OP NUMBER"),
        ("monitors: {m: {model: iris@production, when: [], actions: []}}", "'when' is a condition"),
        (
            "monitors: {m: {model: iris@production, when: a > 1, actions: [{email: x}]}}",
            "unknown action 'email'",
        ),
        (
            "monitors: {m: {model: iris@production, when: a > 1, actions: [{webhook: ftp://x}]}}",
            "http:// or https://",
        ),
        ("monitors: {m: {model: iris@production, when: a > 1, cooldown: soon}}", "not a duration"),
        ("monitors: {m: {model: iris@production, when: a > 1, colour: red}}", "unknown key 'colour'"),
    ],
)
def test_bad_monitors_name_the_line(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "keel.yaml"
    path.write_text(body + "\n")
    with pytest.raises(ConfigError) as caught:
        parse_monitors(load_yaml_mapping(path))
    assert message in str(caught.value) and str(caught.value).startswith("keel.yaml:1")


def test_conditions_and_backticked_columns(tmp_path: Path) -> None:
    from keel.monitor.rules import fired

    path = tmp_path / "keel.yaml"
    path.write_text(
        "monitors:\n  m:\n    model: iris@production\n"
        "    when: ['missing_rate.`petal width (cm)` > 0.1', 'accuracy < 0.8']\n"
    )
    [monitor] = parse_monitors(load_yaml_mapping(path))
    assert monitor.when[0].metric == "missing_rate.petal width (cm)"
    hit, reason = fired(monitor, {"missing_rate.petal width (cm)": 0.2})
    assert hit and "0.2" in reason
    quiet, why = fired(monitor, {"missing_rate.petal width (cm)": 0.0})
    assert not quiet and "not measured: accuracy" in why
