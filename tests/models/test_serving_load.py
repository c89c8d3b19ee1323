"""A minute of load from a second process: no errors, one log row per answered request, and a
SIGTERM under load loses no logged prediction."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import keel
from keel.models import registry
from tests.models.server import serving, stop

CLIENT = r"""
import http.client, json, sys, time
port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
body = json.dumps([{"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4, "petal width (cm)": 0.2}])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
ok = errors = refused = 0
ids = []
start = time.monotonic()
i = 0
while time.monotonic() - start < seconds:
    wait = start + i / rate - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    i += 1
    try:
        conn.request("POST", "/predict", body, {"content-type": "application/json"})
        answer = conn.getresponse()
        data = answer.read()
        if answer.status == 200:
            ok += 1
            ids.append(json.loads(data)["predictions"][0]["request_id"])
        else:
            errors += 1
    except OSError:
        refused += 1  # the server has stopped listening
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
print(json.dumps({"ok": ok, "errors": errors, "refused": refused, "ids": ids}))
"""


def _client(port: int, rate: float, seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(port), str(rate), str(seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    value: dict[str, Any] = json.loads(out)
    return value


@pytest.mark.slow
def test_a_minute_of_load_then_sigterm_under_load(project: Path, iris: Any, iris_pipeline: Any) -> None:
    from keel.serving.prediction_log import read_log

    X, _ = iris
    keel.log_model(iris_pipeline, "iris", input_example=X.head())
    registry.set_alias("iris", 1, "production")
    keel.flush()
    env = {"KEEL_SERVE_LOG_FLUSH_SECONDS": "1", "KEEL_SERVE_LOG_MAX_ROWS": "500"}
    with serving(project, "iris@production", env) as (base, server):
        port = int(base.rsplit(":", 1)[1])
        steady = _result(_client(port, 40, 60))
        assert steady["errors"] == 0 and steady["refused"] == 0
        assert steady["ok"] >= 40 * 60 * 0.9  # the fixed rate was held
        late = _client(port, 40, 8)
        time.sleep(3)
        stopper = threading.Thread(target=stop, args=(server,))
        stopper.start()  # SIGTERM while the second client keeps sending
        stopper.join()
        tail = _result(late)
    assert tail["errors"] == 0 and tail["ok"] > 0
    log = read_log(project / ".keel" / "predictions", "iris")
    answered = steady["ids"] + tail["ids"]
    assert len(log) == len(answered)
    assert sorted(log["request_id"]) == sorted(answered)
