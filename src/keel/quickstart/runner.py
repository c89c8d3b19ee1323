"""``keel quickstart``: build the example project and run Keel's loop on it — version the
data, run the pipeline, rerun it (nothing to do), sweep a parameter, promote the best model,
serve it and send it traffic — narrating each step with the command a user would type."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import Conflict, InvalidInput
from keel.quickstart import example

EXPERIMENT = "quickstart"
DEPTHS = (1, 2, 4)


@dataclass
class QuickstartResult:
    root: Path
    git_commit: str | None = None
    dataset_oid: str | None = None
    pipeline_run: str | None = None
    sweep_run: str | None = None
    sweep_rows: list[dict[str, Any]] = field(default_factory=list)
    model_version: int | None = None
    #: the worse model the checks stopped, and why the gate refused to promote it
    stopped_version: int | None = None
    stopped_reason: str = ""
    gate_refusal: str = ""
    served_requests: int = 0
    logged_predictions: int = 0
    #: monitoring: the drift report, whether the drifted traffic was caught, what the rule did
    drift_report: Path | None = None
    dataset_drift: bool = False
    retrained_version: int | None = None
    #: the training run reproduced, and the verdict
    reproduced_run: str | None = None
    reproduction: str | None = None
    reproduction_run: str | None = None


Say = Callable[[str], None]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)


def _commit_project(root: Path) -> str | None:
    """Put the example under git so every run records the commit that made it."""
    if shutil.which("git") is None:
        return None
    if _git(root, "init", "-q").returncode != 0:
        return None
    if not _git(root, "config", "user.email").stdout.strip():
        _git(root, "config", "user.email", "quickstart@keel.invalid")
        _git(root, "config", "user.name", "Keel quickstart")
    _git(root, "add", "-A")
    if _git(root, "commit", "-q", "-m", "Keel quickstart project").returncode != 0:
        return None
    return _git(root, "rev-parse", "HEAD").stdout.strip() or None


def _write_dataset(path: Path) -> None:
    """scikit-learn's wine data set (it ships with scikit-learn: no download) as a CSV file."""
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def run_quickstart(target: Path, say: Say, show_output: bool = True) -> QuickstartResult:
    """Create the example project in ``target`` (a new or empty folder) and run it."""
    from keel.core.workspace import load_workspace
    from keel.data.add import add_paths
    from keel.data.context import open_data
    from keel.pipeline.runner import run_pipeline
    from keel.pipeline.sweep import run_sweep
    from keel.project.scaffold import init_project

    root = target.expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise Conflict(f"{target} already exists and is not empty; give the quickstart a new folder.")
    if not root.parent.exists():
        raise InvalidInput(f"{root.parent} does not exist; create it first or choose another folder.")

    say(f"[step] Create a project          $ keel init {target}")
    init_project(root, name="keel-quickstart")
    (root / "params.yaml").write_text(example.PARAMS_YAML, encoding="utf-8")
    for name, code in (
        ("prepare", example.PREPARE_PY),
        ("train", example.TRAIN_PY),
        ("evaluate", example.EVALUATE_PY),
    ):
        (root / "src" / f"{name}.py").write_text(code, encoding="utf-8")
    (root / "README.md").write_text(example.README_MD, encoding="utf-8")
    with (root / "keel.yaml").open("a", encoding="utf-8") as fh:
        fh.write(example.STAGES_YAML)
    result = QuickstartResult(root)

    say("[step] Version the raw data      $ keel data add data/raw")
    _write_dataset(root / "data" / "raw" / "wine.csv")
    workspace = load_workspace(root)
    data = open_data(workspace=workspace)
    try:
        (added,) = add_paths(data, ["data/raw"], cwd=root)
    finally:
        data.close()
    result.dataset_oid = added.tracked.oid
    say(f"        data/raw → {added.tracked.oid[:12]} in keel.lock ({added.tracked.files} files)")
    say("[step] Write the checks          $ keel check infer data/raw/wine.csv")
    _write_checks(root)
    say(
        "        checks/wine.schema.yaml (raw data), checks/train.schema.yaml (processed), checks/wine.model.yaml"
    )
    result.git_commit = _commit_project(root)
    if result.git_commit:
        say(f"        committed code and keel.lock to git ({result.git_commit[:12]}): runs record the commit")

    say("[step] Run the pipeline          $ keel run        (prepare → train → evaluate)")
    report = run_pipeline(workspace, experiment=EXPERIMENT, listener=_narrate(say))
    if not report.ok:
        failed = next(r for r in report.stages.values() if r.state == "failed")
        raise InvalidInput(f"The example pipeline failed at {failed.name}: {failed.reason}. {failed.error}")
    result.pipeline_run = report.run_id
    say("[step] Run it again              $ keel run        (nothing changed: every stage is skipped)")
    again = run_pipeline(workspace, experiment=EXPERIMENT)
    skipped = sum(1 for r in again.stages.values() if r.state == "unchanged")
    say(f"        {skipped} of {len(again.stages)} stages unchanged, nothing ran")

    say(
        f"[step] Sweep the tree depth      $ keel run --set train.max_depth={','.join(map(str, DEPTHS))} --sort -metrics.accuracy"
    )
    sweep = run_sweep(workspace, {"train.max_depth": list(DEPTHS)}, experiment=EXPERIMENT)
    if not sweep.ok:
        raise InvalidInput("The example sweep failed; see `keel runs list` in the project.")
    result.sweep_run = sweep.run_id
    result.sweep_rows = sweep.rows("-metrics.accuracy")

    best = result.sweep_rows[0]
    point = next(p for p in sweep.points if p.run_id == best["run_id"])
    train_run = point.stages["train"].run_id
    from keel.checks.gate import promote
    from keel.models.registry import get_model_version
    from keel.tracking.session import session_for_workspace

    session = session_for_workspace(workspace)
    version = get_model_version(f"run:{train_run}/model", session=session)
    depth = best["overrides"].get("train.max_depth")
    say(f"[step] Promote the best model    $ keel models alias wine {version.version} production")
    promote(
        "wine",
        version.version,
        "production",
        reason=f"best sweep accuracy (max_depth={depth})",
        session=session,
    )
    result.model_version = version.version
    say(
        f"        wine/{version.version} (max_depth={depth}, accuracy {best['metrics'].get('accuracy', 0):.3f}) "
        "passed its checks and is production"
    )
    _stop_a_worse_model(workspace, session, result, say)

    say("[step] Serve it and send traffic $ keel serve wine@production")
    result.served_requests, result.logged_predictions = _serve_and_query(root, say)
    say(
        f"        {result.served_requests} requests answered; {result.logged_predictions} predictions in the log "
        "(keel predictions export wine -o predictions.csv)"
    )
    _monitor(workspace, result, say)
    _reproduce(workspace, report, result, say)
    if result.git_commit:
        _git(root, "add", "-A")
        _git(
            root,
            "commit",
            "-q",
            "-m",
            "Keel quickstart: the pipeline's state (keel.lock) and the monitor rule",
        )
    return result


def _reproduce(workspace: Any, pipeline: Any, result: QuickstartResult, say: Say) -> None:
    """Make the first training run again from its commit and data, and compare."""
    from keel.repro.reproduce import reproduce

    if result.git_commit is None:
        say("[step] Reproduce a training run  (skipped: git is not installed, so no commit was recorded)")
        return
    train = pipeline.stages["train"].run_id
    say(f"[step] Reproduce a training run  $ keel reproduce {train[:12]}")
    found = reproduce(workspace, train)
    result.reproduced_run, result.reproduction = train, found.verdict
    result.reproduction_run = found.reproductions[0] if found.reproductions else None
    same = sum(1 for item in found.items if item.verdict == "identical")
    say(f"        {found.verdict}: {same} of {len(found.items)} outputs and metrics equal")


def _monitor(workspace: Any, result: QuickstartResult, say: Say) -> None:
    """Find the drift in the traffic, report it in HTML, and let the monitor rule retrain."""
    from keel.monitor.api import monitor_model, record_monitor
    from keel.monitor.report_html import write_html
    from keel.monitor.watch import run_monitors

    say(
        "[step] Watch for drift           $ keel monitor drift --model wine@production --html reports/drift.html"
    )
    report, version = monitor_model(workspace, "wine@production", since="1h")
    html = workspace.root / "reports" / "drift.html"
    write_html(report.to_dict(), html)
    record_monitor(
        workspace,
        report,
        params={"monitor.model": "wine@production", "monitor.since": "1h"},
        tags={"keel.monitor.model_name": version.name, "keel.monitor.version": version.version},
        html=html,
    )
    drift = report.drift
    result.drift_report, result.dataset_drift = html, drift.dataset_drift
    shifted = ", ".join(c.column for c in drift.columns if c.drifted)
    say(
        f"        dataset drift: {drift.drifted} of {drift.counted} columns drifted ({shifted}); report: reports/drift.html"
    )
    say(
        "[step] Retrain on drift          $ keel monitor run        (the rule `monitors: wine-drift` in keel.yaml)"
    )
    with (workspace.root / "keel.yaml").open("a", encoding="utf-8") as fh:
        fh.write(example.MONITORS_YAML)
    from keel.core.workspace import load_workspace

    (decision,) = run_monitors(load_workspace(workspace.root))
    result.retrained_version = decision.promoted
    say(f"        wine-drift fired ({decision.reason}): {'; '.join(decision.actions) or decision.outcome}")


def _write_checks(root: Path) -> None:
    """The schema of the raw data (inferred, as `keel check infer` does), the same schema for the
    processed training split (its own row band), and the model's quality gates."""
    import dataclasses

    from keel.checks.schema import infer_schema, render_schema
    from keel.data.tables import read_table

    raw = read_table(root / "data" / "raw" / "wine.csv")
    schema = infer_schema(raw, data="data/raw/wine.csv")
    folder = root / "checks"
    folder.mkdir(exist_ok=True)
    (folder / "wine.schema.yaml").write_text(
        render_schema(schema, "data/raw/wine.csv", len(raw)), encoding="utf-8"
    )
    train = dataclasses.replace(
        schema, data="data/processed/train.csv", rows_min=len(raw) // 3, rows_max=len(raw)
    )
    (folder / "train.schema.yaml").write_text(
        render_schema(train, "data/raw/wine.csv", len(raw)), encoding="utf-8"
    )
    (folder / "wine.model.yaml").write_text(example.MODEL_CHECKS_YAML, encoding="utf-8")


def _stop_a_worse_model(workspace: Any, session: Any, result: QuickstartResult, say: Say) -> None:
    """Train a deliberately weak forest: its checks fail the train stage, and the promotion gate
    refuses it."""
    from keel.checks.gate import promote
    from keel.core.errors import Conflict
    from keel.models.registry import get_model_version
    from keel.pipeline.sweep import run_sweep

    say("[step] Try a worse model         $ keel run --set train.n_estimators=10 --set train.max_depth=1")
    weak = run_sweep(workspace, {"train.n_estimators": [10], "train.max_depth": [1]}, experiment=EXPERIMENT)
    (point,) = weak.points
    train = point.stages["train"]
    if train.state != "failed":
        raise InvalidInput(
            "The example's weak model passed its checks; the checks in checks/wine.model.yaml are too loose."
        )
    version = get_model_version(f"run:{train.run_id}/model", session=session)
    result.stopped_version = version.version
    result.stopped_reason = train.reason
    say(f"        train: failed, {train.reason}; evaluate did not run")
    say(f"        $ keel models alias wine {version.version} production")
    try:
        promote("wine", version.version, "production", session=session)
    except Conflict as refused:
        result.gate_refusal = refused.message
        say(f"        refused: {refused.message.split(': ', 1)[1].split('. To fix')[0]}")
    else:
        raise InvalidInput("The promotion gate let a model with failed checks become production.")


def _serve_and_query(root: Path, say: Say) -> tuple[int, int]:
    """Start `keel serve` as its own process on a free loopback port, send it the test rows one
    request each (and their true labels as feedback), stop it, and count the logged rows."""
    import json
    import os
    import signal
    import sys
    import time
    import urllib.error
    import urllib.request

    import pandas as pd

    from keel.serving.prediction_log import read_log
    from keel.serving.server import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "keel", "serve", "wine@production", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def post(path: str, body: Any) -> Any:
        request = urllib.request.Request(
            base + path, json.dumps(body).encode(), {"content-type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    answered = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                _, err = server.communicate()
                raise InvalidInput(
                    f"keel serve stopped: {err.strip().splitlines()[-1] if err.strip() else '?'}"
                )
            try:
                with urllib.request.urlopen(base + "/ready", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise InvalidInput("keel serve did not start within 60 s.") from None
                time.sleep(0.2)
        say(f"        listening on {base}")
        test = pd.read_csv(root / "data" / "processed" / "test.csv")
        features = test.drop(columns=["target"])
        first = None
        for index, row in enumerate(features.to_dict("records")):
            answer = post("/predict", [row])
            prediction = answer["predictions"][0]
            post(
                "/feedback",
                {"request_id": prediction["request_id"], "label": int(test["target"].iloc[index])},
            )
            first = first or prediction
            answered += 1
        if first is not None:
            say(
                f"        $ curl -X POST {base}/predict -d '[{{...one wine...}}]'  →  class {first['prediction']}"
            )
        say(f"        {answered} test wines sent, each with its true class as feedback (POST /feedback)")
        # Then the world changes: the same wines, measured by a miscalibrated instrument.
        drifted = features.copy()
        for column in example.DRIFTED_COLUMNS:
            drifted[column] = drifted[column] + 1.5 * features[column].std()
        for row in drifted.to_dict("records"):
            post("/predict", [row])
            answered += 1
        say(
            f"        then {len(drifted)} requests whose {len(example.DRIFTED_COLUMNS)} measurements have drifted"
        )
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # drains in-flight requests and flushes the log
        server.communicate(timeout=60)
    logged = read_log(root / ".keel" / "predictions", "wine")
    return answered, len(logged)


def _narrate(say: Say) -> Callable[[Any], None]:
    def listen(report: Any) -> None:
        if report.state in ("ran", "restored", "failed"):
            duration = f" in {report.duration:.1f} s" if report.duration else ""
            say(f"        {report.name}: {report.state}{duration}")

    return listen
