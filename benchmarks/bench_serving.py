"""Keel's scoring server against ``mlflow models serve``, on the serving workload of PERFORMANCE.md.

Usage::

    /work/main/.venv/bin/python benchmarks/bench_serving.py [--quick] [--repeats N] [--duration S]
        [--connections C] [--markdown FILE] [--json FILE] [--no-wait]

One fitted scikit-learn Pipeline (StandardScaler + LogisticRegression on sklearn's wine data
set, a DataFrame with its 13 column names), fitted with the same code and library versions in
each tool's virtualenv and logged once per run (untimed):

- **Keel:** a fresh ``keel init`` project, ``keel.log_model(model, "bench", input_example=…)``,
  ``keel models alias bench 1 production``; each trial serves a fresh copy of that project
  with ``keel serve bench@production --port P --workers 1`` (prediction log on: the default).
- **MLflow:** ``mlflow.sklearn.log_model`` into a SQLite tracking store with a local artifact
  folder; each trial runs ``mlflow models serve -m runs:/<run>/model --env-manager local
  --host 127.0.0.1 --port P --workers 1``.

A trial starts the server, waits until it answers (``/ready``, ``/ping``), and then a separate,
stdlib-only client process sends single-row JSON requests over keep-alive connections
(``http.client``, one thread per connection): every row of the data set once (the answers of
both servers must agree), a warm-up, then closed-loop load with C connections for the
duration (the throughput and latency rows), then one connection for half the duration (latency
without queueing). Every answer must be a 200. The server is stopped with SIGTERM; for Keel the
benchmark then counts the rows of the prediction log's Parquet segments, which must equal the
number of predictions the server answered. Trials alternate, MLflow first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness  # this folder is on sys.path when the script runs
from bench_tracking import MLFLOW_ENV, MLFLOW_REQUIREMENT
from harness import KEEL_PYTHON, PROJECT_ROOT, Row, Venv, log

KEEL_BIN = KEEL_PYTHON.parent / "keel"
MODEL = "bench"
ALIAS = "production"
CONNECTIONS = 8
DURATION = 20.0
QUICK_DURATION = 5.0
WARMUP_SECONDS = 3.0
#: PERFORMANCE.md: ≥ 3× MLflow's requests/s at equal or lower p99 latency.
TARGET_RATIO = 3.0
READY_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0

# -- worker code -------------------------------------------------------------------------------

#: The model, fitted the same way in both tools' virtualenvs (deterministic: lbfgs, no randomness).
FIT = r"""
import json
import sys

import sklearn
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def fit():
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = X.astype("float64")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
    return model, X


def versions():
    import numpy
    import pandas

    return {"sklearn": sklearn.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__}
"""

KEEL_SETUP_WORKER = (
    FIT
    + r"""
import keel

model, X = fit()
version = keel.log_model(model, "bench", input_example=X.head())
print(json.dumps({"version": version.version, "rows": X.to_dict("records"), **versions()}))
"""
)

MLFLOW_SETUP_WORKER = (
    FIT
    + r"""
import mlflow

cfg = json.loads(sys.argv[1])
mlflow.set_tracking_uri(cfg["uri"])
experiment = mlflow.create_experiment("bench", artifact_location=cfg["artifacts"])
model, X = fit()
with mlflow.start_run(experiment_id=experiment) as run:
    mlflow.sklearn.log_model(model, name="model", input_example=X.head())
print(json.dumps({"run_id": run.info.run_id, "mlflow": mlflow.__version__, **versions()}))
"""
)

#: Rows of the prediction log (runs in Keel's venv, after the server has exited).
COUNT_WORKER = r"""
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

folder = Path(sys.argv[1])
files = sorted(folder.glob("date=*/*.parquet"))
ids = set()
rows = 0
for path in files:
    table = pq.read_table(path, columns=["request_id"])
    rows += table.num_rows
    ids.update(table.column("request_id").to_pylist())
leftovers = [p.name for p in folder.rglob("*") if p.is_file() and p.suffix != ".parquet"]
print(json.dumps({"rows": rows, "unique_ids": len(ids), "files": len(files), "leftovers": leftovers}))
"""

#: The load generator: stdlib only, one thread per keep-alive connection, closed loop.
CLIENT_WORKER = r'''
import http.client
import json
import os
import sys
import threading
import time

cfg = json.loads(sys.argv[1])
rows = json.loads(open(cfg["rows_file"]).read())
if cfg["body"] == "records":
    bodies = [json.dumps([row]).encode() for row in rows]
else:
    bodies = [json.dumps({"dataframe_records": [row]}).encode() for row in rows]
HEADERS = {"Content-Type": "application/json"}
TICK = os.sysconf("SC_CLK_TCK")


def group_cpu(pgid):
    """CPU seconds (user + system) used so far by the server's process group."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                text = handle.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICK


def label(payload):
    prediction = json.loads(payload)["predictions"][0]
    return prediction["prediction"] if isinstance(prediction, dict) else prediction


def connect():
    return http.client.HTTPConnection("127.0.0.1", cfg["port"], timeout=60)


def check():
    """Every row once, one connection: the label of each (both servers must agree)."""
    conn = connect()
    labels, errors = [], []
    for body in bodies:
        conn.request("POST", cfg["path"], body, HEADERS)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            errors.append(f"{response.status}: {payload[:300]!r}")
            labels.append(None)
        else:
            labels.append(label(payload))
    conn.close()
    return labels, errors


def phase(connections, seconds):
    """Closed loop: each connection sends its next request as soon as the last one is answered."""
    latencies = [[] for _ in range(connections)]
    errors = [0] * connections
    samples = []
    barrier = threading.Barrier(connections + 1)
    window = {}

    def run(index):
        conn = connect()
        mine = latencies[index]
        position = index * 17
        barrier.wait()
        end = window["end"]
        clock = time.perf_counter
        while True:
            started = clock()
            if started >= end:
                break
            body = bodies[position % len(bodies)]
            position += 1
            try:
                conn.request("POST", cfg["path"], body, HEADERS)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status, payload = 0, repr(exc).encode()
                conn.close()
                conn = connect()
            if status == 200:
                mine.append(clock() - started)
            else:
                errors[index] += 1
                if len(samples) < 5:
                    samples.append(f"{status}: {payload[:300]!r}")
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    cpu0, client0 = group_cpu(cfg["pgid"]), time.process_time()
    started = time.perf_counter()
    window["end"] = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu, client = group_cpu(cfg["pgid"]) - cpu0, time.process_time() - client0
    merged = sorted(x for per in latencies for x in per)
    ok = len(merged)

    def pct(q):
        return merged[min(ok - 1, int(q * ok))] if ok else None

    return {
        "connections": connections,
        "seconds": elapsed,
        "ok": ok,
        "errors": sum(errors),
        "error_samples": samples,
        "rps": ok / elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "mean": sum(merged) / ok if ok else None,
        "server_cpu": cpu,
        "client_cpu": client,
    }


labels, check_errors = check()
warm = phase(cfg["connections"], cfg["warmup"])
load = phase(cfg["connections"], cfg["duration"])
single = phase(1, cfg["single_duration"])
answered = len(labels) - len(check_errors) + warm["ok"] + load["ok"] + single["ok"]
errors = len(check_errors) + warm["errors"] + load["errors"] + single["errors"]
print(json.dumps({
    "labels": labels,
    "check_errors": check_errors,
    "warmup": warm,
    "load": load,
    "single": single,
    "answered": answered,
    "errors": errors,
}))
'''


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A server process started in a session of its own (its process group is its pid)."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], ready_url: str) -> None:
        self.name = name
        self.argv = argv
        self.cwd = cwd
        self.env = env
        self.ready_url = ready_url
        self.log_path = cwd / f"{name.lower()}-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start the server; return the seconds until it answered ``ready_url`` with a 200."""
        started = time.perf_counter()
        with open(self.log_path, "wb") as output:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=harness.worker_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + READY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name}'s server exited ({self.proc.returncode}) before answering:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"{self.name}'s server did not answer within {READY_TIMEOUT:.0f} s:\n{self.tail()}"
        )

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> int:
        """SIGTERM to the server's process group; wait until it exits; return its exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.pgid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(
                f"{self.name}'s server did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM"
            ) from None
        # MLflow's CLI runs uvicorn as a child: wait until no process of the group is left.
        deadline = time.perf_counter() + STOP_TIMEOUT
        while group_alive(self.pgid) and time.perf_counter() < deadline:
            time.sleep(0.1)
        if group_alive(self.pgid):
            self.kill()
        return code

    def kill(self) -> None:
        if self.proc is not None and group_alive(self.pgid):
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the benchmark -------------------------------------------------------------------------------


@dataclass
class ThroughputRow(Row):
    """Requests/s, judged by PERFORMANCE.md's rule: ≥ 3× MLflow *and* a p99 no higher than its."""

    p99_lower: bool | None = None

    @property
    def verdict(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return "-"
        if ratio >= TARGET_RATIO and self.p99_lower:
            return "MET"
        if ratio >= TARGET_RATIO:
            return "MISSED (p99 higher)"
        return "MISSED" if self.p99_lower else "MISSED (p99 higher too)"


class Bench:
    def __init__(self, mlflow: Venv, snapshot: Path, args: argparse.Namespace) -> None:
        self.mlflow = mlflow
        self.keel_env = {"PYTHONPATH": str(snapshot)}
        self.args = args
        self.work = harness.fresh_dir("serving")
        self.rows_file = self.work / "rows.json"
        self.keel_template = self.work / "keel-template"
        self.mlflow_store = self.work / "mlflow-store"
        self.mlflow_run = ""
        self.info: dict[str, Any] = {}
        self.trials: list[dict[str, Any]] = []
        self.labels: dict[str, list[Any]] = {}

    def close(self) -> None:
        harness.remove_dir(self.work)

    # setup (untimed) ------------------------------------------------------------------------------

    def setup(self) -> None:
        log("[setup] keel: keel init, keel.log_model, keel models alias bench 1 production")
        harness.run_command([str(KEEL_BIN), "init", str(self.keel_template)], env=self.keel_env)
        keel = harness.run_worker(KEEL_PYTHON, KEEL_SETUP_WORKER, cwd=self.keel_template, env=self.keel_env)
        harness.run_command(
            [str(KEEL_BIN), "models", "alias", MODEL, str(keel["version"]), ALIAS],
            cwd=self.keel_template,
            env=self.keel_env,
        )
        self.rows_file.write_text(json.dumps(keel.pop("rows")))
        log("[setup] mlflow: mlflow.sklearn.log_model into a SQLite store with a local artifact folder")
        self.mlflow_store.mkdir()
        peer = harness.run_worker(
            self.mlflow.python,
            MLFLOW_SETUP_WORKER,
            args=[
                json.dumps({"uri": self.mlflow_uri, "artifacts": (self.mlflow_store / "artifacts").as_uri()})
            ],
            cwd=self.mlflow_store,
            env=MLFLOW_ENV,
        )
        self.mlflow_run = peer["run_id"]
        for lib in ("sklearn", "pandas", "numpy"):
            if keel[lib] != peer[lib]:
                log(f"[setup] warning: {lib} {keel[lib]} (Keel's venv) != {peer[lib]} (MLflow's venv)")
        self.info = {"keel": keel, "mlflow": peer}
        log(
            f"[setup] scikit-learn {keel['sklearn']}, pandas {keel['pandas']}, numpy {keel['numpy']} "
            f"(Keel) / {peer['sklearn']}, {peer['pandas']}, {peer['numpy']} (MLflow {peer['mlflow']})"
        )

    @property
    def mlflow_uri(self) -> str:
        return f"sqlite:///{self.mlflow_store / 'mlflow.db'}"

    # one trial ------------------------------------------------------------------------------------

    def client_cfg(self, server: Server, port: int, path: str, body: str) -> dict[str, Any]:
        return {
            "port": port,
            "path": path,
            "body": body,
            "rows_file": str(self.rows_file),
            "connections": self.args.connections,
            "warmup": self.args.warmup,
            "duration": self.args.duration,
            "single_duration": self.args.duration / 2,
            "pgid": server.pgid,
        }

    def drive(self, server: Server, folder: Path, cfg: dict[str, Any]) -> dict[str, Any]:
        """Run the client process against a started server; raise if any request failed."""
        result = harness.run_worker(
            sys.executable, CLIENT_WORKER, args=[json.dumps(cfg)], cwd=folder, timeout=600
        )
        if result["errors"]:
            samples = result["check_errors"][:3] + [
                s for key in ("warmup", "load", "single") for s in result[key]["error_samples"]
            ]
            raise RuntimeError(
                f"{server.name}: {result['errors']} request(s) did not get a 200, e.g. {samples[:5]}\n"
                f"server log:\n{server.tail()}"
            )
        return result

    def keel_trial(self, index: int) -> dict[str, Any]:
        folder = harness.fresh_dir("keel-serve")
        project = folder / "project"
        shutil.copytree(self.keel_template, project)
        port = free_port()
        argv = [str(KEEL_BIN), "serve", f"{MODEL}@{ALIAS}", "--port", str(port), "--workers", "1"]
        server = Server("Keel", argv, project, self.keel_env, f"http://127.0.0.1:{port}/ready")
        try:
            startup = server.start()
            result = self.drive(server, folder, self.client_cfg(server, port, "/predict", "records"))
            code = server.stop()
            # uvicorn re-raises the SIGTERM it handled once shut down, so -15 is a clean exit too.
            if code not in (0, -signal.SIGTERM):
                raise RuntimeError(f"keel serve exited with {code} after SIGTERM:\n{server.tail()}")
            logged = harness.run_worker(
                KEEL_PYTHON,
                COUNT_WORKER,
                args=[str(project / ".keel" / "predictions" / MODEL / "predictions")],
            )
            if logged["rows"] != result["answered"] or logged["unique_ids"] != logged["rows"]:
                raise RuntimeError(
                    f"Keel's prediction log holds {logged['rows']} rows ({logged['unique_ids']} request "
                    f"ids) but the server answered {result['answered']} predictions\n{server.tail()}"
                )
            if logged["leftovers"]:
                raise RuntimeError(f"Keel's prediction log has stray files: {logged['leftovers'][:5]}")
        finally:
            server.kill()
            harness.remove_dir(folder)
        return {**result, "startup": startup, "exit_code": code, "logged": logged}

    def mlflow_trial(self, index: int) -> dict[str, Any]:
        folder = harness.fresh_dir("mlflow-serve")
        port = free_port()
        argv = [
            str(self.mlflow.script("mlflow")),
            "models",
            "serve",
            "-m",
            f"runs:/{self.mlflow_run}/model",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        env = {
            **MLFLOW_ENV,
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
            # `mlflow models serve` runs `uvicorn` from PATH, as in an activated virtualenv.
            "PATH": f"{self.mlflow.root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            # Keel logs no line per request by default; uvicorn (under MLflow) does: same settings.
            "UVICORN_ACCESS_LOG": "false",
        }
        server = Server("MLflow", argv, folder, env, f"http://127.0.0.1:{port}/ping")
        try:
            startup = server.start()
            result = self.drive(server, folder, self.client_cfg(server, port, "/invocations", "mlflow"))
            code = server.stop()
        finally:
            server.kill()
            harness.remove_dir(folder)
        return {**result, "startup": startup, "exit_code": code}

    def run(self) -> list[Row]:
        def trial(tool: str, index: int) -> dict[str, Any]:
            result = self.mlflow_trial(index) if tool == "MLflow" else self.keel_trial(index)
            load, single = result["load"], result["single"]
            extra = ""
            if "logged" in result:
                extra = f", log {result['logged']['rows']:,} rows = {result['answered']:,} answered"
            log(
                f"  [serve {index + 1}/{self.args.repeats}] {tool:6}: {load['rps']:,.0f} req/s, "
                f"p50 {load['p50'] * 1000:.1f} ms, p99 {load['p99'] * 1000:.1f} ms "
                f"({self.args.connections} conn); 1 conn {single['rps']:,.0f} req/s, "
                f"p50 {single['p50'] * 1000:.2f} ms, p99 {single['p99'] * 1000:.2f} ms; "
                f"server CPU {1000 * load['server_cpu'] / load['ok']:.2f} ms/req; "
                f"ready in {result['startup']:.1f} s; 0 errors{extra}"
            )
            self.labels.setdefault(tool, result["labels"])
            labels = result.pop("labels")
            if labels != self.labels[tool]:
                raise RuntimeError(f"{tool} answered differently from its first trial")
            self.trials.append({"tool": tool, "trial": index, **result})
            return result

        log(
            f"[serve] {self.args.connections} connections for {self.args.duration:g} s, then 1 "
            f"connection for {self.args.duration / 2:g} s (after {self.args.warmup:g} s of warm-up)"
        )
        # harness.alternate collects whatever a trial returns: here each trial's dict of figures.
        peer_results: list[Any]
        keel_results: list[Any]
        peer_results, keel_results = harness.alternate(
            self.args.repeats, lambda i: trial("MLflow", i), lambda i: trial("Keel", i)
        )
        mismatches = [
            i
            for i, (a, b) in enumerate(zip(self.labels["Keel"], self.labels["MLflow"], strict=True))
            if str(a) != str(b)
        ]
        if mismatches:
            raise RuntimeError(f"Keel and MLflow predict different labels for rows {mismatches[:10]}")

        def row(workload: str, unit: str, higher: bool, figure: Any) -> Row:
            """A row of ``figure(trial result)`` for each tool (rates: higher is better)."""
            keel = [float(figure(r)) for r in keel_results]
            peer = [float(figure(r)) for r in peer_results]
            return Row(workload, unit, higher, None, keel, peer)

        c = self.args.connections
        rate = row(f"requests/s, single-row, {c} connections", "req/s", True, lambda r: r["load"]["rps"])
        p99 = row(f"p99 latency, {c} connections", "s", False, lambda r: r["load"]["p99"])
        assert p99.keel_median is not None and p99.peer_median is not None and rate.peer_median is not None
        # The target is a ratio against the peer measured in this run (PERFORMANCE.md: the
        # anchor is "to be measured in the same run"): anchor = MLflow's median, target = 3× it.
        throughput = ThroughputRow(
            rate.workload,
            rate.unit,
            True,
            TARGET_RATIO * rate.peer_median,
            rate.keel,
            rate.peer,
            anchor=rate.peer_median,
            p99_lower=p99.keel_median <= p99.peer_median,
        )
        rows = [
            throughput,
            row(f"p50 latency, {c} connections", "s", False, lambda r: r["load"]["p50"]),
            p99,
            row("requests/s, 1 connection", "req/s", True, lambda r: r["single"]["rps"]),
            row("p50 latency, 1 connection", "s", False, lambda r: r["single"]["p50"]),
            row("p99 latency, 1 connection", "s", False, lambda r: r["single"]["p99"]),
            row(
                f"server CPU time per request, {c} connections",
                "s",
                False,
                lambda r: r["load"]["server_cpu"] / r["load"]["ok"],
            ),
            row("start-up: command to first 200 on /ready, /ping", "s", False, lambda r: r["startup"]),
        ]
        return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_DURATION:g} s of load and 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="trials per tool (default 3, --quick 1)")
    parser.add_argument(
        "--duration", type=float, default=None, help=f"seconds of load (default {DURATION:g}, --quick 5)"
    )
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help=f"concurrent connections (default {CONNECTIONS})"
    )
    parser.add_argument(
        "--warmup", type=float, default=WARMUP_SECONDS, help=f"warm-up seconds (default {WARMUP_SECONDS:g})"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write every trial's figures as JSON to this file")
    parser.add_argument(
        "--mlflow", default=MLFLOW_REQUIREMENT, help=f"pip requirement (default {MLFLOW_REQUIREMENT})"
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for other running benchmarks to finish"
    )
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.duration = args.duration or (QUICK_DURATION if args.quick else DURATION)
    if args.repeats < 1 or args.connections < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--repeats and --connections must be at least 1, --duration positive")
    harness.drop_keel_settings()

    mlflow = harness.ensure_venv("mlflow", [args.mlflow])
    if not args.no_wait:
        harness.wait_for_quiet_machine()
    from bench_tracking import keel_snapshot

    snapshot, digest = keel_snapshot()
    log(f"[setup] Keel code {digest[:12]} from {PROJECT_ROOT / 'src' / 'keel'}")
    log(f"[setup] Python {platform.python_version()}, {os.cpu_count()} CPUs; client: {sys.executable}")
    bench = Bench(mlflow, snapshot, args)
    try:
        bench.setup()
        rows = bench.run()
    finally:
        bench.close()

    keel_trials = [t for t in bench.trials if t["tool"] == "Keel"]
    all_trials = bench.trials
    load_share = [t["load"]["client_cpu"] / t["load"]["seconds"] for t in all_trials]
    throughput = rows[0]
    assert isinstance(throughput, ThroughputRow)
    answered = sum(t["answered"] for t in keel_trials)
    logged = sum(t["logged"]["rows"] for t in keel_trials)
    notes = [
        f"peer: {args.mlflow} (`mlflow models serve --env-manager local --workers 1`, uvicorn, no "
        f"access log) vs `keel serve {MODEL}@{ALIAS} --workers 1` (prediction log on); "
        f"{args.repeats} trial(s) per tool, alternating, MLflow first, each a fresh server",
        f"model: StandardScaler + LogisticRegression on sklearn's wine data (13 float columns, 3 "
        f"classes), scikit-learn {bench.info['keel']['sklearn']}, pandas {bench.info['keel']['pandas']}; "
        f"both servers gave the same label for all {len(bench.labels['Keel'])} rows",
        f"load: single-row JSON requests (Keel `[{{...}}]` at /predict, MLflow "
        f'`{{"dataframe_records": [{{...}}]}}` at /invocations), closed loop over keep-alive '
        f"connections from one stdlib client process, {args.connections} connections for "
        f"{args.duration:g} s then 1 connection for {args.duration / 2:g} s, after {args.warmup:g} s "
        "of warm-up; ratio = how many times better Keel is (rates: Keel/MLflow; times: MLflow/Keel)",
        f"errors: 0 (every response was a 200); Keel's prediction log held exactly the "
        f"{logged:,} predictions answered ({answered:,}) in its trials, read after SIGTERM",
        f"target: ≥ {TARGET_RATIO:g}× MLflow's requests/s at equal or lower p99; p99 at "
        f"{args.connections} connections: Keel "
        f"{harness.format_value(rows[2].keel_median, 's')} vs MLflow "
        f"{harness.format_value(rows[2].peer_median, 's')} "
        f"({'lower' if throughput.p99_lower else 'higher'})",
        f"client CPU while loading: {max(load_share):.0%} of one core at most (the machine has "
        f"{os.cpu_count()} cores; client and server share them)",
    ]
    harness.report(
        rows,
        notes,
        args.markdown,
        args.json,
        raw={"rows": harness.raw_results(rows), "setup": bench.info, "trials": bench.trials},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
