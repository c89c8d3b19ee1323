"""Keel's tracking against MLflow (SQLite backend), on the workloads of PERFORMANCE.md.

Usage::

    /work/main/.venv/bin/python benchmarks/bench_tracking.py [--quick] [--repeats N] [--markdown FILE]

Every trial runs in a fresh subprocess with a fresh temporary project (Keel) or database
(MLflow); MLflow and Keel trials alternate. Keel runs from the project's ``.venv``, on a
byte-compiled snapshot of ``src/keel`` taken at start (so that edits made to the checkout while
the benchmark runs cannot mix two versions of the code, and so that Keel, like MLflow, is
measured with compiled bytecode); MLflow runs from its own virtualenv under
``benchmarks/.venvs/mlflow``. See benchmarks/README.md for what each workload measures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness  # this folder is on sys.path when the script runs
from harness import KEEL_PYTHON, PROJECT_ROOT, WORK_DIR, Row, Venv, log

#: mlflow 3.18.0 is on the index but its mlflow-skinny==3.18.0 dependency is not (yet), so it
#: cannot be installed here; 3.17.2 is the newest installable release and matches the anchor's 3.17.
MLFLOW_REQUIREMENT = "mlflow==3.17.2"
#: MLflow 3 sends usage telemetry from a background thread; nothing here may leave the machine.
MLFLOW_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}

SEARCH_FILTER = "metrics.acc > 0.5 and params.model = 'rf'"
SEARCH_SEED = 20240601
SEARCH_CALLS = 10
MAX_RESULTS = 1000

# -- worker code -------------------------------------------------------------------------------
# The same data generators run in both tools' workers (and here, to know the expected answers).

COMMON = r'''
import json
import random
import sys
import time


def search_rows(n, seed):
    """Runs to search: model in rf/gb/lr, acc uniform in [0, 1), 5 params and 5 metrics each."""
    rng = random.Random(seed)
    models = ("rf", "gb", "lr")
    rows = []
    for i in range(n):
        params = {
            "model": models[rng.randrange(3)],
            "n_estimators": rng.choice((50, 100, 200, 400)),
            "max_depth": rng.randrange(2, 12),
            "learning_rate": round(rng.uniform(0.01, 0.3), 4),
            "seed": i,
        }
        metrics = {
            "acc": rng.random(),
            "loss": rng.random(),
            "f1": rng.random(),
            "precision": rng.random(),
            "recall": rng.random(),
        }
        rows.append((params, metrics))
    return rows


def runs_data(n):
    """Runs to create: 5 params and 5 metrics each."""
    return [
        (
            {"lr": 0.001 * (i % 100 + 1), "batch_size": 32, "optimizer": "adam", "epochs": 10, "seed": i},
            {"loss": 1.0 / (i + 1), "acc": (i % 100) / 100, "f1": 0.5, "precision": 0.25, "recall": 0.75},
        )
        for i in range(n)
    ]


def metric_rows(keys, steps):
    names = [f"m{k:03d}" for k in range(keys)]
    return names, [{name: s * 0.001 + j for j, name in enumerate(names)} for s in range(steps)]
'''

KEEL_WORKER = (
    COMMON
    + r"""
import keel


def main(cfg):
    task = cfg["task"]
    if task == "single":
        n, warm = cfg["points"], cfg["warmup"]
        values = [i * 0.001 for i in range(n)]
        with keel.start_run(experiment="bench") as run:
            for i in range(warm):
                keel.log_metric("warmup", i * 0.001, step=i)
            keel.flush()
            started = time.perf_counter()
            for i, value in enumerate(values):
                keel.log_metric("loss", value, step=i)
            keel.flush()
            seconds = time.perf_counter() - started
        stored = len(keel.get_metric_history(run.id, "loss"))
        return {"seconds": seconds, "count": n, "stored": stored}
    if task == "batch":
        names, rows = metric_rows(cfg["keys"], cfg["steps"])
        warm_names, warm_rows = metric_rows(cfg["keys"], cfg["warmup_steps"])
        with keel.start_run(experiment="bench") as run:
            for step, row in enumerate(warm_rows):
                keel.log_metrics({"w" + k: v for k, v in row.items()}, step=step)
            keel.flush()
            started = time.perf_counter()
            for step, row in enumerate(rows):
                keel.log_metrics(row, step=step)
            keel.flush()
            seconds = time.perf_counter() - started
        stored = sum(len(keel.get_metric_history(run.id, name)) for name in names)
        return {"seconds": seconds, "count": len(names) * len(rows), "stored": stored}
    if task == "runs":
        n, warm = cfg["runs"], cfg["warmup"]
        data = runs_data(n + warm)
        for params, metrics in data[:warm]:
            with keel.start_run(experiment="bench", params=params):
                keel.log_metrics(metrics)
        started = time.perf_counter()
        for params, metrics in data[warm:]:
            with keel.start_run(experiment="bench", params=params):
                keel.log_metrics(metrics)
        seconds = time.perf_counter() - started
        stored = len(keel.search_runs(experiment="bench", max_results=100_000)) - warm
        return {"seconds": seconds, "count": n, "stored": stored}
    if task == "populate":
        started = time.perf_counter()
        for params, metrics in search_rows(cfg["runs"], cfg["seed"]):
            with keel.start_run(experiment="search", params=params):
                keel.log_metrics(metrics)
        keel.flush()
        return {"seconds": time.perf_counter() - started, "count": cfg["runs"]}
    if task == "search":
        found = keel.search_runs(cfg["filter"], experiment="search", max_results=cfg["max_results"])
        times = []
        for _ in range(cfg["calls"]):
            started = time.perf_counter()
            found = keel.search_runs(cfg["filter"], experiment="search", max_results=cfg["max_results"])
            times.append(time.perf_counter() - started)
        return {"times": times, "count": len(found)}
    raise SystemExit(f"unknown task {task}")


print(json.dumps(main(json.loads(sys.argv[1]))))
"""
)

MLFLOW_WORKER = (
    COMMON
    + r"""
import mlflow
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient


def one_run(params, metrics):
    mlflow.start_run()
    mlflow.log_params(params)
    mlflow.log_metrics(metrics)
    mlflow.end_run()


def main(cfg):
    mlflow.set_tracking_uri(cfg["uri"])
    task = cfg["task"]
    if task == "single":
        n, warm = cfg["points"], cfg["warmup"]
        values = [i * 0.001 for i in range(n)]
        mlflow.set_experiment("bench")
        with mlflow.start_run() as run:
            for i in range(warm):
                mlflow.log_metric("warmup", i * 0.001, step=i)
            started = time.perf_counter()
            for i, value in enumerate(values):
                mlflow.log_metric("loss", value, step=i)  # synchronous: durable on return
            seconds = time.perf_counter() - started
        stored = len(MlflowClient().get_metric_history(run.info.run_id, "loss"))
        return {"seconds": seconds, "count": n, "stored": stored}
    if task == "batch":
        client = MlflowClient()
        run_id = client.create_run(client.create_experiment("bench")).info.run_id
        stamp = int(time.time() * 1000)
        names, rows = metric_rows(cfg["keys"], cfg["steps"])
        warm_names, warm_rows = metric_rows(cfg["keys"], cfg["warmup_steps"])
        warm = [Metric("w" + k, v, stamp, s) for s, row in enumerate(warm_rows) for k, v in row.items()]
        points = [Metric(k, v, stamp, s) for s, row in enumerate(rows) for k, v in row.items()]
        size = cfg["batch_size"]
        for start in range(0, len(warm), size):
            client.log_batch(run_id, metrics=warm[start : start + size])
        started = time.perf_counter()
        for start in range(0, len(points), size):
            client.log_batch(run_id, metrics=points[start : start + size])
        seconds = time.perf_counter() - started
        client.set_terminated(run_id)
        stored = sum(len(client.get_metric_history(run_id, name)) for name in names)
        return {"seconds": seconds, "count": len(points), "stored": stored}
    if task == "runs":
        n, warm = cfg["runs"], cfg["warmup"]
        data = runs_data(n + warm)
        experiment_id = mlflow.set_experiment("bench").experiment_id
        for params, metrics in data[:warm]:
            one_run(params, metrics)
        started = time.perf_counter()
        for params, metrics in data[warm:]:
            one_run(params, metrics)
        seconds = time.perf_counter() - started
        stored = len(MlflowClient().search_runs([experiment_id], max_results=50_000)) - warm
        return {"seconds": seconds, "count": n, "stored": stored}
    if task == "populate":
        # Untimed set-up, so the quickest route: 3 calls per run instead of 4.
        client = MlflowClient()
        experiment_id = client.create_experiment("search")
        started = time.perf_counter()
        for params, metrics in search_rows(cfg["runs"], cfg["seed"]):
            run_id = client.create_run(experiment_id).info.run_id
            stamp = int(time.time() * 1000)
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
            )
            client.set_terminated(run_id)
        return {"seconds": time.perf_counter() - started, "count": cfg["runs"]}
    if task == "search":
        client = MlflowClient()
        experiment_id = client.get_experiment_by_name("search").experiment_id
        found = client.search_runs([experiment_id], cfg["filter"], max_results=cfg["max_results"])
        times = []
        for _ in range(cfg["calls"]):
            started = time.perf_counter()
            found = client.search_runs([experiment_id], cfg["filter"], max_results=cfg["max_results"])
            times.append(time.perf_counter() - started)
        return {"times": times, "count": len(found)}
    raise SystemExit(f"unknown task {task}")


print(json.dumps(main(json.loads(sys.argv[1]))))
"""
)


def _expected_matches(runs: int) -> int:
    """How many runs match SEARCH_FILTER (before max_results) in the generated data."""
    namespace: dict[str, Any] = {}
    exec(COMMON, namespace)
    rows = namespace["search_rows"](runs, SEARCH_SEED)
    return sum(1 for params, metrics in rows if params["model"] == "rf" and metrics["acc"] > 0.5)


# -- Keel code snapshot --------------------------------------------------------------------------


def _digest(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def keel_snapshot() -> tuple[Path, str]:
    """A byte-compiled copy of src/keel; returns (folder to put on PYTHONPATH, code digest).

    The checkout is an editable install and this machine sets PYTHONDONTWRITEBYTECODE=1, so
    ``src/keel`` has no .pyc files and every fresh interpreter would recompile each Keel module
    it imports: an installed wheel would not. The snapshot also keeps the benchmark on one
    version of the code while other people edit the checkout.
    """
    source = PROJECT_ROOT / "src" / "keel"
    digest = _digest(list(source.rglob("*.py")), source)
    snapshots = WORK_DIR / "keel-snapshots"
    folder = snapshots / digest[:16]
    if not (folder / ".complete").exists():
        # Drop day-old snapshots only: another benchmark may be running on a recent one.
        for old in snapshots.glob("*/.complete"):
            if time.time() - old.stat().st_mtime > 86_400:
                harness.remove_dir(old.parent)
        log(f"[setup] keel: compiled snapshot of src/keel -> {folder}")
        shutil.copytree(source, folder / "keel", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        subprocess.run(
            [str(KEEL_PYTHON), "-m", "compileall", "-q", str(folder / "keel")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (folder / ".complete").write_text(digest + "\n")
    return folder, digest


def schema_key(snapshot: Path) -> str:
    """Digest of the files that decide how Keel stores runs (cached populated projects use it)."""
    store = snapshot / "keel" / "store"
    files = [store / "schema.py", store / "migrate.py", *sorted((store / "migrations").rglob("*.py"))]
    files += [p for p in [store / "metric_codec.py"] if p.exists()]
    return _digest([p for p in files if p.exists()], snapshot)[:16]


# -- the benchmark -------------------------------------------------------------------------------


class Bench:
    def __init__(self, mlflow: Venv, snapshot: Path, quick: bool, repeats: int) -> None:
        self.mlflow = mlflow
        self.keel_env = {"PYTHONPATH": str(snapshot)}
        self.snapshot = snapshot
        self.quick = quick
        self.repeats = repeats
        self.small_search_peer: list[float] = []

    # one trial of each tool, in a fresh folder ----------------------------------------------

    def keel(self, cfg: dict[str, Any], template: Path | None = None) -> dict[str, Any]:
        folder = harness.fresh_dir("keel")
        project = folder / "project"
        try:
            if template is not None:
                shutil.copytree(template, project)
            else:
                self.keel_init(project)
            return harness.run_worker(
                KEEL_PYTHON, KEEL_WORKER, args=[json.dumps(cfg)], cwd=project, env=self.keel_env
            )
        finally:
            harness.remove_dir(folder)

    def keel_init(self, project: Path) -> None:
        harness.time_command([str(KEEL_PYTHON), "-m", "keel", "init", str(project)], env=self.keel_env)

    def peer(self, cfg: dict[str, Any], template: Path | None = None) -> dict[str, Any]:
        folder = harness.fresh_dir("mlflow")
        try:
            if template is not None:
                shutil.copytree(template, folder, dirs_exist_ok=True)
            cfg = {**cfg, "uri": f"sqlite:///{folder / 'mlflow.db'}"}
            return harness.run_worker(
                self.mlflow.python, MLFLOW_WORKER, args=[json.dumps(cfg)], cwd=folder, env=MLFLOW_ENV
            )
        finally:
            harness.remove_dir(folder)

    # workloads ------------------------------------------------------------------------------------

    def _rate_trials(
        self, name: str, keel_cfg: dict[str, Any], peer_cfg: dict[str, Any]
    ) -> tuple[list[float], list[float]]:
        def run(tool: str, call: Callable[[dict[str, Any]], dict[str, Any]], cfg: dict[str, Any]) -> float:
            result = call(cfg)
            if result["stored"] != result["count"]:
                raise RuntimeError(f"{name}/{tool}: stored {result['stored']} of {result['count']}")
            rate = result["count"] / result["seconds"]
            log(f"  {tool:6} {result['count']:>6} in {result['seconds']:.3f} s = {rate:,.0f}/s")
            return float(rate)

        return harness.alternate(
            self.repeats,
            lambda _: run("MLflow", self.peer, peer_cfg),
            lambda _: run("Keel", self.keel, keel_cfg),
        )

    def single(self) -> Row:
        peer_points = 2_000 if self.quick else 10_000
        log(f"[single] 10,000 log_metric calls (MLflow: {peer_points:,}), 1,000 warm-up calls first")
        peer, keel = self._rate_trials(
            "single",
            {"task": "single", "points": 10_000, "warmup": 1_000},
            {"task": "single", "points": peer_points, "warmup": 1_000},
        )
        return Row("log 10,000 points one call at a time", "points/s", True, 200_000, keel, peer, anchor=289)

    def batch(self) -> Row:
        log("[batch] 10,000 points: 100 keys × 100 steps (MLflow: log_batch of 1,000)")
        cfg = {"task": "batch", "keys": 100, "steps": 100, "warmup_steps": 10, "batch_size": 1000}
        peer, keel = self._rate_trials("batch", cfg, cfg)
        return Row("log 10,000 points in batches", "points/s", True, 500_000, keel, peer, anchor=11_300)

    def runs(self) -> Row:
        peer_runs = 200 if self.quick else 2_000
        log(f"[runs] 2,000 runs with 5 params + 5 metrics (MLflow: {peer_runs:,}), 20 warm-up runs first")
        peer, keel = self._rate_trials(
            "runs",
            {"task": "runs", "runs": 2_000, "warmup": 20},
            {"task": "runs", "runs": peer_runs, "warmup": 20},
        )
        label = "create 2,000 runs (5 params + 5 metrics)"
        return Row(label, "runs/s", True, 2_000, keel, peer, anchor=51)

    def _search_trial(
        self, tool: str, call: Callable[..., dict[str, Any]], template: Path, expected: int
    ) -> float:
        cfg = {"task": "search", "filter": SEARCH_FILTER, "calls": SEARCH_CALLS, "max_results": MAX_RESULTS}
        result = call(cfg, template)
        if result["count"] != expected:
            raise RuntimeError(f"search/{tool}: found {result['count']} runs, expected {expected}")
        seconds = harness.median(result["times"])
        log(f"  {tool:6} {result['count']} runs in {seconds * 1000:.1f} ms (median of {SEARCH_CALLS})")
        return seconds

    def search_small(self, runs: int = 2_000) -> Row:
        log(f"[search] {SEARCH_FILTER!r} over {runs:,} runs: populating both stores (untimed)")
        expected = min(MAX_RESULTS, _expected_matches(runs))
        base = harness.fresh_dir("search-templates")
        try:
            keel_template = base / "keel"
            self.keel_init(keel_template)
            populate = {"task": "populate", "runs": runs, "seed": SEARCH_SEED}
            done = harness.run_worker(
                KEEL_PYTHON, KEEL_WORKER, args=[json.dumps(populate)], cwd=keel_template, env=self.keel_env
            )
            log(f"  Keel   populated {runs:,} runs in {done['seconds']:.1f} s")
            peer_template = base / "mlflow"
            peer_template.mkdir()
            cfg = {**populate, "uri": f"sqlite:///{peer_template / 'mlflow.db'}"}
            done = harness.run_worker(
                self.mlflow.python, MLFLOW_WORKER, args=[json.dumps(cfg)], cwd=peer_template, env=MLFLOW_ENV
            )
            log(f"  MLflow populated {runs:,} runs in {done['seconds']:.1f} s")
            peer, keel = harness.alternate(
                self.repeats,
                lambda _: self._search_trial("MLflow", self.peer, peer_template, expected),
                lambda _: self._search_trial("Keel", self.keel, keel_template, expected),
            )
        finally:
            harness.remove_dir(base)
        self.small_search_peer = peer
        return Row(f"search runs, {runs:,} runs", "s", False, None, keel, peer)

    def search_large(self, runs: int = 100_000) -> Row:
        log(f"[search] {SEARCH_FILTER!r} over {runs:,} runs: Keel only")
        log("  MLflow is not measured here: populating it with 100k runs takes ~30 minutes.")
        expected = min(MAX_RESULTS, _expected_matches(runs))
        template = self.populated_keel_project(runs)
        keel = [
            self._search_trial("Keel", self.keel, template, expected) for _ in range(max(self.repeats, 3))
        ]
        # PERFORMANCE.md sets this target against MLflow over 2,000 runs (0.08 s): the peer
        # column shows MLflow's 2,000-run figure from this same benchmark run, when it ran.
        return Row(
            f"search runs, {runs:,} runs",
            "s",
            False,
            0.05,
            keel,
            self.small_search_peer,
            peer_name="MLflow over 2,000 runs:",
            note="MLflow not run at 100k: populating it takes ~30 min",
            anchor=0.08,
        )

    def populated_keel_project(self, runs: int) -> Path:
        """A Keel project holding ``runs`` search runs, cached under .work/ by schema digest."""
        key = schema_key(self.snapshot)
        cache = WORK_DIR / f"search-{runs}-{key}"
        if (cache / ".complete").exists():
            log(f"  reusing populated project {cache}")
            return cache / "project"
        for old in WORK_DIR.glob(f"search-{runs}-*"):
            harness.remove_dir(old)  # another schema's data: useless now
        log(f"  populating {runs:,} Keel runs into {cache} (untimed, cached for reruns; ~2 min)")
        project = cache / "project"
        self.keel_init(project)
        cfg = {"task": "populate", "runs": runs, "seed": SEARCH_SEED}
        done = harness.run_worker(
            KEEL_PYTHON, KEEL_WORKER, args=[json.dumps(cfg)], cwd=project, env=self.keel_env
        )
        log(f"  Keel   populated {runs:,} runs in {done['seconds']:.1f} s")
        (cache / ".complete").write_text(json.dumps({"runs": runs, "schema": key}) + "\n")
        return project

    def _command_rows(
        self,
        label: str,
        keel_argv: list[str],
        peer_argv: list[str],
        target: float | None = None,
        anchor: float | None = None,
    ) -> Row:
        repeats = 7 if not self.quick else 3
        cwd = harness.fresh_dir("cli")
        try:
            # One untimed run each, so both start from a warm page cache.
            harness.time_command(peer_argv, cwd=cwd, env=MLFLOW_ENV)
            harness.time_command(keel_argv, cwd=cwd, env=self.keel_env)
            peer, keel = harness.alternate(
                repeats,
                lambda _: harness.time_command(peer_argv, cwd=cwd, env=MLFLOW_ENV),
                lambda _: harness.time_command(keel_argv, cwd=cwd, env=self.keel_env),
            )
        finally:
            harness.remove_dir(cwd)
        log(f"  {label}: Keel {harness.median(keel):.3f} s, MLflow {harness.median(peer):.3f} s")
        return Row(label, "s", False, target, keel, peer, anchor=anchor)

    def startup(self) -> list[Row]:
        log("[startup] fresh interpreters: python -c pass / import / --help")
        keel_bin = KEEL_PYTHON.parent / "keel"
        return [
            self._command_rows(
                "python -c pass (interpreter alone)",
                [str(KEEL_PYTHON), "-c", "pass"],
                [str(self.mlflow.python), "-c", "pass"],
            ),
            self._command_rows(
                "import keel / import mlflow",
                [str(KEEL_PYTHON), "-c", "import keel"],
                [str(self.mlflow.python), "-c", "import mlflow"],
                target=0.10,
                anchor=1.7,
            ),
            self._command_rows(
                "keel --help / mlflow --help",
                [str(keel_bin), "--help"],
                [str(self.mlflow.script("mlflow")), "--help"],
                target=0.15,
                anchor=3.1,
            ),
        ]


def sqlite_commit_rates(commits: int = 300) -> str:
    """Reference figures of this machine's disk: SQLite commits/s (one row per commit)."""
    probe = r"""
import json, os, sqlite3, sys, time
rates = {}
for mode, sync in (("DELETE", "FULL"), ("WAL", "FULL"), ("WAL", "NORMAL")):
    path = os.path.join(sys.argv[1], f"probe-{mode}-{sync}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(f"pragma journal_mode={mode}")
    db.execute(f"pragma synchronous={sync}")
    db.execute("create table t (a)")
    started = time.perf_counter()
    for i in range(int(sys.argv[2])):
        db.execute("begin")
        db.execute("insert into t values (?)", (i,))
        db.execute("commit")
    rates[f"{mode.lower()}/{sync.lower()}"] = int(sys.argv[2]) / (time.perf_counter() - started)
    db.close()
print(json.dumps(rates))
"""
    folder = harness.fresh_dir("sqlite-probe")
    try:
        rates = harness.run_worker(KEEL_PYTHON, probe, args=[str(folder), str(commits)])
    finally:
        harness.remove_dir(folder)
    return ", ".join(f"{name} {rate:,.0f}" for name, rate in rates.items())


WORKLOADS = ("single", "batch", "runs", "search", "search100k", "startup")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer MLflow points/runs and 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="trials per tool (default 3, --quick 1)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write every trial's figure as JSON to this file")
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help=f"comma-separated workloads (default: all of {WORKLOADS})"
    )
    parser.add_argument(
        "--mlflow", default=MLFLOW_REQUIREMENT, help=f"pip requirement (default {MLFLOW_REQUIREMENT})"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {WORKLOADS}")

    harness.wait_for_quiet_machine()
    mlflow = harness.ensure_venv("mlflow", [args.mlflow])
    snapshot, digest = keel_snapshot()
    log(
        f"[setup] Keel code {digest[:12]} from {PROJECT_ROOT / 'src' / 'keel'}, Python {platform.python_version()}"
    )
    bench = Bench(mlflow, snapshot, args.quick, repeats)

    rows: list[Row] = []
    steps: dict[str, Callable[[], list[Row]]] = {
        "single": lambda: [bench.single()],
        "batch": lambda: [bench.batch()],
        "runs": lambda: [bench.runs()],
        "search": lambda: [bench.search_small()],
        "search100k": lambda: [bench.search_large()],
        "startup": bench.startup,
    }
    for name in WORKLOADS:
        if name in chosen:
            rows.extend(steps[name]())

    notes = [
        f"peer: {args.mlflow} (SQLite backend), {repeats} trial(s) per tool, alternating; "
        "ratio = how many times faster Keel is",
        "target: PERFORMANCE.md's absolute figure and, in brackets, the ratio it implies against "
        "MLflow's anchor figure there; the verdict judges that ratio (absolute figures are a guide)",
        "search: median of 10 calls after 1 warm-up call per trial, max_results=1000",
    ]
    reference = sqlite_commit_rates()
    log(f"[reference] SQLite commits/s, one row each (journal/synchronous): {reference}")
    notes.append(f"this disk, SQLite commits/s with one row each (journal/synchronous): {reference}")
    if args.quick:
        notes.append("--quick: MLflow logs 2,000 single points and creates 200 runs (rates scale)")
    harness.report(rows, notes, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
