"""Keel's drift detection against Evidently's ``DataDriftPreset``, on the monitoring targets.

Usage::

    /work/main/.venv/bin/python benchmarks/bench_monitor.py [--quick] [--repeats N]
        [--evidently-large-repeats N] [--only timing,detection] [--detect-trials N]
        [--evidently-100k-detect-trials N] [--markdown FILE] [--json FILE]
        [--evidently REQUIREMENT] [--no-wait]

A full run takes about 12 minutes on a 2-core VM, mostly Evidently. Defaults: 3 timing trials
per tool, except Evidently at 1M rows: 1 (``--evidently-large-repeats``); detection rates over
10 trials per size, except Evidently at 100,000 rows: 5 (about 8 s a report, 7 reports a
trial). ``--quick``: 100k rows only, 1 timing trial per tool, 1 detection trial per size
(about 2 minutes). The first run installs Evidently into ``benchmarks/.venvs/evidently``
(``evidently==0.7.23`` needs ``pandas<3``; pyarrow pinned to Keel's venv's).

The targets (PERFORMANCE.md): a drift report on 100k rows × 20 columns (15 numeric, 5
categorical) in ≤ 0.3 s (Evidently 6.3 s there), and on 1M rows × 20 in ≤ 3 s with at most
+200 MiB peak RSS over the data (Evidently 95.6 s, +752 MiB).

**Timing.** One deterministic pair of tables per size (seed 0), generated once with
``keel.monitor.drift_scenarios.make_table`` (``booleans=0``: its 15 numeric columns of
normal, lognormal, uniform and count shapes and its 5 categorical columns of 3–30
categories), written as Parquet (untimed) under ``benchmarks/.work/monitor/`` and reused by
later runs: a reference table, and a current table drawn independently from the same
distributions except in 4 columns (:data:`DRIFTED`). Every trial is a fresh process in the
tool's own venv that reads both files with ``pd.read_parquet`` (untimed), then times:

- Evidently: ``Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)``
  (the whole report: it computes every column's test, histograms and plots);
- Keel: ``detect_drift(sketch_table(reference), current)`` (the reference sketch included,
  since Evidently processes the reference too); and, as a separate row, ``detect_drift`` alone
  on the reference's sketch read from the JSON file an earlier process wrote (the reference
  rows are not loaded), because Keel caches reference sketches per dataset version (that
  row's peer figure is the same Evidently runs).

Imports happen before the timer: the tool, pandas, pyarrow, and for Keel ``scipy.stats`` and
``scipy.spatial.distance``, which Keel imports lazily at its first test and Evidently when
it is imported (the JSON records how long that import took). Peak RSS "over the data" is the
process's peak resident set during the timed call minus its resident set just before it
(both frames loaded, ``gc.collect()`` done): the peak is reset first by writing 5 to
``/proc/self/clear_refs`` and read afterwards as ``VmHWM``.

Equal work (untimed): after every trial both tools must have tested all 20 columns and
flagged exactly the 4 drifted ones. Evidently's per-column verdicts come from its
``DataDriftTable`` result (``drift_by_columns[c].drift_detected``), the legacy metric the
preset computes for its table, read back from the snapshot's cache; they are checked against
the preset's ``DriftedColumnsCount`` and the per-column ``ValueDrift`` scores. Trials
alternate, Evidently first; at 1M rows Evidently runs once by default (about 100 s a trial).

**Detection rates.** ``drift_scenarios`` draws, per trial, a reference table and one current
table per scenario (22 columns: ``make_table``'s defaults, with 2 boolean columns), written
as Parquet; both tools, with their defaults, test every column of the same files, and the
table gives per scenario the share of changed columns flagged (for ``none`` and
``missing_20``, where nothing changes in the values, the false-alarm share over all
columns), at 1,000 rows and at 100,000 rows a side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import harness  # this folder is on sys.path when the script runs
from bench_checks import cpu_seconds, short
from harness import KEEL_PYTHON, PROJECT_ROOT, WORK_DIR, Row, Venv, log

LARGE_ROWS = 1_000_000
SMALL_ROWS = 100_000
SEED = 0
#: Bump when the generator's code changes (a change to drift_scenarios.py or to the
#: settings below regenerates the cached tables by itself).
DATA_VERSION = 1
#: PERFORMANCE.md: (Keel's target, Evidently's anchor) per size; RSS in MiB.
TARGETS = {SMALL_ROWS: (0.3, 6.3), LARGE_ROWS: (3.0, 95.6)}
RSS_TARGET, RSS_ANCHOR = 200.0, 752.0
EVIDENTLY_REQUIREMENT = "evidently==0.7.23"
#: The 4 columns of the current table that drift, and how (a drift_scenarios scenario).
DRIFTED = {
    "normal_a": "mean_shift_0.5",
    "lognormal_b": "variance_x2",
    "category_5": "reweighting",
    "category_10": "new_category",
}
DETECT_SIZES = (1_000, 100_000)
DETECT_TRIALS = 10
EVIDENTLY_100K_DETECT_TRIALS = 5
SCENARIO_LABELS = {
    "none": "no drift (false alarms)",
    "mean_shift_0.1": "mean shift 0.1σ",
    "mean_shift_0.5": "mean shift 0.5σ",
    "variance_x2": "variance ×2",
    "reweighting": "category reweighting",
    "new_category": "new category (10%)",
    "missing_20": "missing +20% (false alarms)",
}

# -- worker code -------------------------------------------------------------------------------

#: Runs in Keel's venv: writes the timing tables, or one detection trial's tables.
GENERATE_WORKER = r"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from keel.monitor.drift_scenarios import SCENARIOS, changed_columns, make_table

cfg = json.loads(sys.argv[1])
folder = Path(cfg["folder"])
rng = np.random.default_rng(cfg["seed"])
n = cfg["rows"]
started = time.perf_counter()


def write(frame, name):
    tmp = folder / f".{name}.parquet.tmp"
    frame.to_parquet(tmp, index=False)
    tmp.replace(folder / f"{name}.parquet")
    return (folder / f"{name}.parquet").stat().st_size


result = {}
if cfg["mode"] == "timing":
    reference = make_table(rng, n, booleans=0)
    current = make_table(rng, n, booleans=0)
    for column, scenario in cfg["drifted"].items():
        current[column] = make_table(rng, n, scenario, booleans=0, only=[column])[column]
    result["sizes"] = {"reference": write(reference, "reference"), "current": write(current, "current")}
    result["columns"] = list(reference.columns)
    result["dtypes"] = {c: str(t) for c, t in reference.dtypes.items()}
else:
    write(make_table(rng, n), "reference")
    for scenario in SCENARIOS:
        write(make_table(rng, n, scenario), scenario)
    result["changed"] = {scenario: changed_columns(scenario) for scenario in SCENARIOS}
result["seconds"] = time.perf_counter() - started
print(json.dumps(result))
"""

#: Shared head of both tools' workers: arguments, the stopwatch, RSS and what every result carries.
WORKER_HEAD = r"""
import gc
import json
import sys
import time

import numpy
import pandas as pd
import pyarrow
import pyarrow.parquet
import scipy

cfg = json.loads(sys.argv[1])
clock = time.perf_counter
MIB = 2**20


def status(field):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    # Resets VmHWM to the current RSS (Linux >= 4.0); returns that RSS.
    gc.collect()
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    rss = status("VmRSS")
    if status("VmHWM") > rss + 4 * MIB:
        raise RuntimeError("could not reset the peak RSS (/proc/self/clear_refs)")
    return rss


def read(name):
    started = clock()
    frame = pd.read_parquet(f"{cfg['folder']}/{name}.parquet")
    return frame, clock() - started


def finish(result):
    result["versions"] = {
        "pandas": pd.__version__,
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "scipy": scipy.__version__,
    }
    print(json.dumps(result))
"""

KEEL_WORKER = (
    WORKER_HEAD
    + r"""
started = clock()
import scipy.spatial.distance
import scipy.stats  # Keel imports these at its first test: before the timer, as Evidently's are

scipy_import = clock() - started
from keel.monitor.drift import detect_drift
from keel.checks.sketch import TableSketch, sketch_table


def verdicts(drift):
    tested = [c.column for c in drift.columns if c.test is not None and c.skipped is None]
    flagged = [c.column for c in drift.columns if c.drifted]
    return tested, flagged, {c.column: c.test for c in drift.columns}


result = {"scipy_import": scipy_import}
if cfg["mode"] == "sketch":  # what Keel's cache holds: the reference's sketch as JSON
    reference, _ = read("reference")
    with open(cfg["sketch"], "w") as handle:
        json.dump(sketch_table(reference).to_dict(), handle)
elif cfg["mode"] in ("full", "cached"):
    sketch = None
    if cfg["mode"] == "cached":  # the sketch from the cache (made in another process); no reference rows
        with open(cfg["sketch"]) as handle:
            sketch = TableSketch.from_dict(json.load(handle))
        reference, read_reference = None, 0.0
    else:
        reference, read_reference = read("reference")
    current, read_current = read("current")
    result["read"] = read_reference + read_current
    result["frames"] = int(current.memory_usage(deep=True).sum())
    if reference is not None:
        result["frames"] += int(reference.memory_usage(deep=True).sum())
    result["rss_before"] = reset_peak()
    started = clock()
    if sketch is None:
        sketch = sketch_table(reference)
    sketched = clock()
    drift = detect_drift(sketch, current)
    done = clock()
    result["peak"] = status("VmHWM")
    result["seconds"] = done - started
    result["sketch_seconds"] = sketched - started
    result["detect_seconds"] = done - sketched
    result["tested"], result["flagged"], result["tests"] = verdicts(drift)
else:
    reference, _ = read("reference")
    sketch = sketch_table(reference)
    result["scenarios"] = {}
    for scenario in cfg["scenarios"]:
        current, _ = read(scenario)
        started = clock()
        drift = detect_drift(sketch, current)
        seconds = clock() - started
        tested, flagged, tests = verdicts(drift)
        result["scenarios"][scenario] = {"seconds": seconds, "tested": tested, "flagged": flagged, "tests": tests}
finish(result)
"""
)

EVIDENTLY_WORKER = (
    WORKER_HEAD
    + r"""
import logging
import warnings

import evidently
from evidently import Report
from evidently.legacy.metrics import DataDriftTable
from evidently.presets import DataDriftPreset

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def verdicts(snapshot):
    # Evidently's per-column verdicts: the preset's DataDriftTable, read back from the cache.
    cached = len(snapshot.context._legacy_metrics)
    table, _ = snapshot.context.get_legacy_metric(DataDriftTable(), None, None)
    if len(snapshot.context._legacy_metrics) != cached:
        raise SystemExit("DataDriftTable() was not the preset's: it was computed again")
    columns = table.drift_by_columns
    flagged = [name for name, c in columns.items() if c.drift_detected]
    # Cross-checks against the preset's own metrics.
    body = snapshot.dict()["metrics"]
    counts = [m["value"]["count"] for m in body if m["config"]["type"].endswith("DriftedColumnsCount")]
    if counts != [len(flagged)]:
        raise SystemExit(f"DriftedColumnsCount {counts} != {len(flagged)} columns flagged in DataDriftTable")
    scores = {m["config"]["column"]: m["value"] for m in body if m["config"]["type"].endswith(":ValueDrift")}
    if set(scores) != set(columns) or any(
        abs(scores[name] - float(c.drift_score)) > 1e-9 * max(1.0, abs(scores[name])) for name, c in columns.items()
    ):
        raise SystemExit("ValueDrift scores differ from DataDriftTable's")
    return list(columns), flagged, {name: c.stattest_name for name, c in columns.items()}


def run(reference, current):
    return Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)


result = {"evidently": evidently.__version__}
if cfg["mode"] == "full":
    reference, read_reference = read("reference")
    current, read_current = read("current")
    result["read"] = read_reference + read_current
    result["frames"] = int(reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum())
    result["rss_before"] = reset_peak()
    started = clock()
    snapshot = run(reference, current)
    result["seconds"] = clock() - started
    result["peak"] = status("VmHWM")
    result["tested"], result["flagged"], result["tests"] = verdicts(snapshot)
else:
    reference, _ = read("reference")
    result["scenarios"] = {}
    for scenario in cfg["scenarios"]:
        current, _ = read(scenario)
        started = clock()
        snapshot = run(reference, current)
        seconds = clock() - started
        tested, flagged, tests = verdicts(snapshot)
        result["scenarios"][scenario] = {"seconds": seconds, "tested": tested, "flagged": flagged, "tests": tests}
finish(result)
"""
)

#: Versions of the libraries in Keel's venv (the Evidently venv pins the same pyarrow).
VERSIONS_WORKER = r"""
import json

import numpy
import pandas
import pyarrow
import scipy

print(json.dumps({
    "pandas": pandas.__version__,
    "numpy": numpy.__version__,
    "pyarrow": pyarrow.__version__,
    "scipy": scipy.__version__,
}))
"""

# -- data --------------------------------------------------------------------------------------


def scenarios_digest(snapshot: Path) -> str:
    """Digest of the generator's code: a change to it regenerates the cached tables."""
    source = (snapshot / "keel" / "monitor" / "drift_scenarios.py").read_bytes()
    return hashlib.sha256(source).hexdigest()[:16]


def prepare_timing_data(rows: int, keel_env: dict[str, str], digest: str) -> tuple[Path, dict[str, Any]]:
    """Generate (once) the reference and current tables of ``rows`` rows; return the folder."""
    folder = WORK_DIR / "monitor" / f"{rows}-v{DATA_VERSION}-seed{SEED}"
    marker = folder / ".complete"
    cfg = {
        "mode": "timing",
        "rows": rows,
        "seed": [SEED, rows],
        "folder": str(folder),
        "drifted": DRIFTED,
        "generator": digest,
    }
    if marker.exists():
        cached: dict[str, Any] = json.loads(marker.read_text())
        if cached.pop("cfg", None) == json.loads(json.dumps(cfg)):
            log(f"[setup] data: reusing {folder}")
            return folder, cached
    harness.remove_dir(folder)
    folder.mkdir(parents=True)
    log(f"[setup] data: generating reference and current tables, {rows:,} rows × 20 columns, in {folder}")
    info = harness.run_worker(KEEL_PYTHON, GENERATE_WORKER, args=[json.dumps(cfg)], cwd=folder, env=keel_env)
    if len(info["columns"]) != 20:
        raise RuntimeError(f"expected 20 columns, got {info['columns']}")
    marker.write_text(json.dumps({**info, "cfg": cfg}) + "\n")
    total = sum(info["sizes"].values())
    log(f"[setup] data: written in {info['seconds']:.1f} s, Parquet {total / 2**20:.0f} MiB for both")
    return folder, info


# -- tables ----------------------------------------------------------------------------------------


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


# -- the benchmark -------------------------------------------------------------------------------


class Bench:
    def __init__(self, evidently: Venv, keel_env: dict[str, str]) -> None:
        self.evidently = evidently
        self.keel_env = keel_env
        self.trials: list[dict[str, Any]] = []
        self.detections: list[dict[str, Any]] = []
        self.work = harness.fresh_dir("monitor")  # cwd of the workers: outside any Keel project

    def close(self) -> None:
        harness.remove_dir(self.work)

    def worker(self, tool: str, cfg: dict[str, Any]) -> dict[str, Any]:
        if tool == "Keel":
            return harness.run_worker(
                KEEL_PYTHON, KEEL_WORKER, args=[json.dumps(cfg)], cwd=self.work, env=self.keel_env
            )
        return harness.run_worker(
            self.evidently.python, EVIDENTLY_WORKER, args=[json.dumps(cfg)], cwd=self.work
        )

    # -- timing

    def sketch_file(self, rows: int) -> Path:
        return self.work / f"reference-sketch-{rows}.json"

    def timing_trial(
        self, tool: str, mode: str, folder: Path, rows: int, index: int, of: int
    ) -> dict[str, Any]:
        result = self.worker(
            tool, {"mode": mode, "folder": str(folder), "sketch": str(self.sketch_file(rows))}
        )
        tested, flagged = sorted(result["tested"]), sorted(result["flagged"])
        expected = sorted(DRIFTED)
        if len(tested) != 20 or flagged != expected:
            raise RuntimeError(
                f"{tool} ({mode}, {rows:,} rows) tested {len(tested)} columns and flagged {flagged}; "
                f"expected all 20 tested and exactly {expected} flagged"
            )
        extra = ""
        if tool == "Keel":
            extra = f" (sketch {result['sketch_seconds']:.3f} s + detect {result['detect_seconds']:.3f} s)"
        log(
            f"  [{short(rows)} {mode} {index + 1}/{of}] {tool:9}: {result['seconds']:.3f} s{extra}, "
            f"peak RSS +{mib(result['peak'] - result['rss_before'])} over {mib(result['rss_before'])}; "
            f"read {result['read']:.2f} s; flagged exactly the 4 drifted columns"
        )
        self.trials.append({"tool": tool, "mode": mode, "rows": rows, "trial": index, **result})
        return result

    def timing(self, rows: int, folder: Path, repeats: int, peer_repeats: int) -> list[Row]:
        size = f"{short(rows)} × 20"
        log(
            f"[timing] {size}: drift report, both tables loaded ({peer_repeats} Evidently, {repeats} Keel trials)"
        )
        peer: list[dict[str, Any]] = []
        full: list[dict[str, Any]] = []
        for trial in range(max(repeats, peer_repeats)):
            if trial < peer_repeats:
                peer.append(self.timing_trial("Evidently", "full", folder, rows, trial, peer_repeats))
            if trial < repeats:
                full.append(self.timing_trial("Keel", "full", folder, rows, trial, repeats))
        log(f"[timing] {size}: Keel with the reference sketch from its cache ({repeats} trials)")
        self.worker("Keel", {"mode": "sketch", "folder": str(folder), "sketch": str(self.sketch_file(rows))})
        cached = [self.timing_trial("Keel", "cached", folder, rows, t, repeats) for t in range(repeats)]
        target, anchor = TARGETS.get(rows, (None, None))
        peer_seconds = [float(r["seconds"]) for r in peer]

        def over(results: list[dict[str, Any]]) -> list[float]:
            return [(r["peak"] - r["rss_before"]) / 2**20 for r in results]

        rows_out = [
            Row(
                f"drift report {size} (reference sketched in the timer)",
                "s",
                False,
                target,
                [float(r["seconds"]) for r in full],
                peer_seconds,
                peer_name="Evidently",
                anchor=anchor,
            ),
            Row(
                f"drift report {size}, reference sketch cached",
                "s",
                False,
                None,
                [float(r["seconds"]) for r in cached],
                peer_seconds,
                peer_name="Evidently",
            ),
            Row(
                f"peak RSS over the data, {size}",
                "MiB",
                False,
                RSS_TARGET if rows == LARGE_ROWS else None,
                over(full),
                over(peer),
                peer_name="Evidently",
                anchor=RSS_ANCHOR if rows == LARGE_ROWS else None,
            ),
        ]
        return rows_out

    # -- detection rates

    def detection(self, trials: int, peer_trials: dict[int, int]) -> None:
        for rows in DETECT_SIZES:
            log(
                f"[detection] {rows:,} rows a side: {trials} Keel and {peer_trials[rows]} Evidently trials, "
                "7 scenarios each"
            )
            for trial in range(trials):
                folder = harness.fresh_dir("monitor-scenarios")
                try:
                    cfg = {
                        "mode": "scenarios",
                        "rows": rows,
                        "seed": [SEED, rows, trial],
                        "folder": str(folder),
                    }
                    generated = harness.run_worker(
                        KEEL_PYTHON, GENERATE_WORKER, args=[json.dumps(cfg)], cwd=self.work, env=self.keel_env
                    )
                    scenarios = list(generated["changed"])
                    ask = {"mode": "scenarios", "folder": str(folder), "scenarios": scenarios}
                    tools = (["Evidently"] if trial < peer_trials[rows] else []) + ["Keel"]
                    for tool in tools:
                        result = self.worker(tool, ask)
                        self.detections.append(
                            {
                                "tool": tool,
                                "rows": rows,
                                "trial": trial,
                                "changed": generated["changed"],
                                **result,
                            }
                        )
                        seconds = sum(s["seconds"] for s in result["scenarios"].values())
                        flagged = {s: len(v["flagged"]) for s, v in result["scenarios"].items()}
                        log(f"  [{rows:,} {trial + 1}/{trials}] {tool:9}: {seconds:.2f} s; flagged {flagged}")
                finally:
                    harness.remove_dir(folder)

    def rates(self) -> dict[str, Any]:
        """Per (tool, rows, scenario): flagged/tested among changed and unchanged columns."""
        out: dict[str, Any] = {}
        for record in self.detections:
            for scenario, found in record["scenarios"].items():
                changed = set(record["changed"][scenario])
                tested, flagged = set(found["tested"]), set(found["flagged"])
                key = f"{record['tool']}/{record['rows']}/{scenario}"
                tally = out.setdefault(
                    key,
                    {"hits": 0, "tested": 0, "untested": 0, "other_hits": 0, "other_tested": 0, "tests": {}},
                )
                tally["hits"] += len(flagged & changed)
                tally["tested"] += len(tested & changed)
                tally["untested"] += len(changed - tested)
                tally["other_hits"] += len(flagged - changed)
                tally["other_tested"] += len(tested - changed)
                for test in found["tests"].values():
                    tally["tests"][str(test)] = tally["tests"].get(str(test), 0) + 1
        return out


def detection_table(
    rates: dict[str, Any], trials: int, peer_trials: dict[int, int]
) -> tuple[str, str, list[str]]:
    """The detection-rate table (text and Markdown) and its notes."""
    headers = ["scenario"]
    for rows in DETECT_SIZES:
        headers += [f"Keel, {short(rows)} rows", f"Evidently, {short(rows)} rows"]
    lines = []
    for scenario, label in SCENARIO_LABELS.items():
        line = [label]
        for rows in DETECT_SIZES:
            for tool in ("Keel", "Evidently"):
                tally = rates.get(f"{tool}/{rows}/{scenario}")
                if not tally or not tally["tested"]:
                    line.append("-")
                    continue
                cell = f"{tally['hits'] / tally['tested']:.0%} ({tally['hits']}/{tally['tested']})"
                if tally["untested"]:
                    cell += f", {tally['untested']} not tested"
                line.append(cell)
        lines.append(line)
    # False alarms on the columns a scenario leaves alone.
    line = ["unchanged columns in the 5 drift scenarios (false alarms)"]
    for rows in DETECT_SIZES:
        for tool in ("Keel", "Evidently"):
            hits = tested = 0
            for scenario in SCENARIO_LABELS:
                tally = rates.get(f"{tool}/{rows}/{scenario}")
                if tally and scenario not in ("none", "missing_20"):
                    hits += tally["other_hits"]
                    tested += tally["other_tested"]
            line.append(f"{hits / tested:.0%} ({hits}/{tested})" if tested else "-")
    lines.append(line)

    def tests_used(tool: str, rows: int) -> str:
        used: dict[str, int] = {}
        for scenario in SCENARIO_LABELS:
            for test, count in rates.get(f"{tool}/{rows}/{scenario}", {}).get("tests", {}).items():
                used[test] = used.get(test, 0) + count
        return ", ".join(sorted(used))

    notes = [
        "share of the changed columns each tool flagged with its defaults (Keel `detect_drift`, Evidently "
        "`DataDriftPreset`), both on the same Parquet files: per scenario and trial a fresh reference and "
        "current table of `drift_scenarios.make_table` (15 numeric, 5 categorical, 2 boolean columns); "
        "for 'no drift' and 'missing +20%' the share of all columns flagged (false alarms)",
        f"trials: Keel {trials} per size; Evidently {peer_trials[DETECT_SIZES[0]]} at "
        f"{DETECT_SIZES[0]:,} rows and {peer_trials[DETECT_SIZES[1]]} at {DETECT_SIZES[1]:,} rows "
        "(the first trials of Keel's, on the same files; a 100k report takes Evidently about 8 s)",
        *(
            f"tests used at {rows:,} rows: Keel {tests_used('Keel', rows)}; Evidently {tests_used('Evidently', rows)}"
            for rows in DETECT_SIZES
        ),
    ]
    return harness.plain_table(headers, lines), harness.markdown_grid(headers, lines), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="100k rows only and 1 trial (detection: 1 trial)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timing trials per tool (default 3, --quick 1)"
    )
    parser.add_argument(
        "--evidently-large-repeats",
        type=int,
        default=1,
        help="Evidently trials at 1M rows (default 1: ~100 s each)",
    )
    parser.add_argument("--only", default="timing,detection", help="any of timing,detection (default both)")
    parser.add_argument(
        "--detect-trials",
        type=int,
        default=None,
        help=f"detection trials (default {DETECT_TRIALS}, --quick 1)",
    )
    parser.add_argument(
        "--evidently-100k-detect-trials",
        type=int,
        default=None,
        help=f"Evidently's detection trials at 100k rows (default {EVIDENTLY_100K_DETECT_TRIALS}, --quick 1)",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write every trial's figures as JSON to this file")
    parser.add_argument(
        "--evidently",
        default=EVIDENTLY_REQUIREMENT,
        help=f"pip requirement (default {EVIDENTLY_REQUIREMENT})",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for other running benchmarks to finish"
    )
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    if not only or only - {"timing", "detection"}:
        parser.error("--only takes timing, detection or both")
    repeats = args.repeats or (1 if args.quick else 3)
    large_repeats = 0 if args.quick else args.evidently_large_repeats
    trials = args.detect_trials or (1 if args.quick else DETECT_TRIALS)
    peer_100k = args.evidently_100k_detect_trials or (1 if args.quick else EVIDENTLY_100K_DETECT_TRIALS)
    peer_trials = {DETECT_SIZES[0]: trials, DETECT_SIZES[1]: min(peer_100k, trials)}
    if min(repeats, trials, peer_100k) < 1 or large_repeats < 0:
        parser.error("trial counts must be at least 1")
    harness.drop_keel_settings()

    from bench_tracking import keel_snapshot

    snapshot, digest = keel_snapshot()
    keel_env = {"PYTHONPATH": str(snapshot)}
    libs = harness.run_worker(KEEL_PYTHON, VERSIONS_WORKER)
    # pandas<3 for Evidently 0.7; the same pyarrow (libarrow) as Keel's venv; NumPy and SciPy as pip resolves.
    evidently = harness.ensure_venv("evidently", [args.evidently, "pandas<3", f"pyarrow=={libs['pyarrow']}"])
    if not args.no_wait:
        harness.wait_for_quiet_machine()
    log(f"[setup] Keel code {digest[:12]} from {PROJECT_ROOT / 'src' / 'keel'}")
    log(f"[setup] Python {platform.python_version()}, {os.cpu_count()} CPUs")
    generator = scenarios_digest(snapshot)
    sizes = [SMALL_ROWS] if args.quick else [SMALL_ROWS, LARGE_ROWS]
    data = (
        {rows: prepare_timing_data(rows, keel_env, generator) for rows in sizes} if "timing" in only else {}
    )

    bench = Bench(evidently, keel_env)
    busy_before, own_before = cpu_seconds()
    started = time.monotonic()
    rows_out: list[Row] = []
    try:
        for rows, (folder, _) in data.items():
            peer_repeats = repeats if rows == SMALL_ROWS else large_repeats
            rows_out += bench.timing(rows, folder, repeats, peer_repeats)
        if "detection" in only:
            bench.detection(trials, peer_trials)
    finally:
        bench.close()
    busy_after, own_after = cpu_seconds()
    elapsed = time.monotonic() - started
    others = max(0.0, (busy_after - busy_before) - (own_after - own_before)) / (
        elapsed * (os.cpu_count() or 1)
    )

    everything = bench.trials + bench.detections
    versions = {
        tool: next(t["versions"] for t in everything if t["tool"] == tool)
        for tool in ("Keel", "Evidently")
        if any(t["tool"] == tool for t in everything)
    }
    evidently_version = next((t["evidently"] for t in everything if t["tool"] == "Evidently"), "?")
    notes: list[str] = []
    if bench.trials:

        def figure(tool: str, mode: str, rows: int, key: str) -> list[float]:
            return [
                float(t[key])
                for t in bench.trials
                if t["tool"] == tool and t["mode"] == mode and t["rows"] == rows
            ]

        def tests_of(tool: str) -> dict[str, str]:
            return next(t["tests"] for t in bench.trials if t["tool"] == tool and t["mode"] == "full")

        def tests_used(tool: str) -> str:
            used: dict[str, int] = {}
            for test in tests_of(tool).values():
                used[str(test)] = used.get(str(test), 0) + 1
            return ", ".join(f"{test} ×{count}" for test, count in sorted(used.items()))

        def read_differently() -> str:
            # Columns one tool tests as numbers and the other as categories.
            if not any(t["tool"] == "Evidently" for t in bench.trials):
                return ""
            keel, peer = tests_of("Keel"), tests_of("Evidently")
            numeric = ("ks", "wasserstein", "psi", "K-S", "Wasserstein")
            differ = [
                c
                for c in keel
                if any(n in str(keel[c]) for n in numeric) != any(n in str(peer.get(c)) for n in numeric)
            ]
            return (
                f" ({', '.join(f'{c}: Keel {keel[c]}, Evidently {peer.get(c)}' for c in differ)})"
                if differ
                else ""
            )

        def med(values: list[float], unit: str = "s") -> str:
            return harness.format_value(harness.median(values), unit) if values else "-"

        keel_split = "; ".join(
            f"{short(rows)}: sketch {med(figure('Keel', 'full', rows, 'sketch_seconds'))} + detect "
            f"{med(figure('Keel', 'full', rows, 'detect_seconds'))}"
            for rows in data
        )
        frames = "; ".join(
            f"{short(rows)}: Keel {mib(figure('Keel', 'full', rows, 'frames')[0])}, "
            f"Evidently {mib(figure('Evidently', 'full', rows, 'frames')[0])}"
            if figure("Evidently", "full", rows, "frames")
            else f"{short(rows)}: Keel {mib(figure('Keel', 'full', rows, 'frames')[0])}"
            for rows in data
        )
        before = "; ".join(
            f"{short(rows)}: Keel {mib(min(figure('Keel', 'full', rows, 'rss_before')))}"
            + (
                f", Evidently {mib(min(figure('Evidently', 'full', rows, 'rss_before')))}"
                if figure("Evidently", "full", rows, "rss_before")
                else ""
            )
            for rows in data
        )
        parquet = "; ".join(
            f"{short(rows)}: {sum(info['sizes'].values()) / 2**20:.0f} MiB"
            for rows, (_, info) in data.items()
        )
        counts = ", ".join(
            f"{short(rows)}: Evidently {repeats if rows == SMALL_ROWS else large_repeats}, Keel {repeats}"
            for rows in data
        )
        notes += [
            f"peer: {args.evidently} (`Report([DataDriftPreset()]).run(current_data=…, reference_data=…)`, "
            f"the whole report) vs Keel `detect_drift(sketch_table(reference), current)`; trials per tool "
            f"({counts}), alternating, Evidently first, each a fresh process with both frames loaded and "
            "every import done before the timer; ratio = how many times faster (or smaller) Keel is",
            "data: reference and current tables of `drift_scenarios.make_table(booleans=0)` (15 numeric, "
            "5 categorical columns), the current drifted in 4 ("
            + ", ".join(f"{c}: {s}" for c, s in DRIFTED.items())
            + f"); Parquet {parquet}; the frames in memory: {frames} (pandas "
            f"{versions.get('Keel', {}).get('pandas', '?')} strings vs pandas "
            f"{versions.get('Evidently', {}).get('pandas', '?')} object strings)",
            "equal work: in every trial both tools tested all 20 columns and flagged exactly the 4 drifted "
            f"ones; tests used: Keel: {tests_used('Keel')}; Evidently: {tests_used('Evidently')}"
            + read_differently(),
            f"Keel's time, sketch + detect (medians): {keel_split}; the cached row times `detect_drift` alone "
            "on the reference's sketch read from a JSON file an earlier process wrote (no reference rows "
            "loaded), against the same Evidently runs; Keel's lazy "
            f"`import scipy.stats` (outside both timers) took {med([float(t['scipy_import']) for t in bench.trials if t['tool'] == 'Keel'])}",
            "peak RSS over the data: the peak resident set during the timed call minus the resident set "
            f"just before it (VmHWM reset via /proc/self/clear_refs); that baseline (frames loaded): {before}",
        ]
        if LARGE_ROWS in data and large_repeats < repeats:
            notes.append(
                f"Evidently ran {large_repeats} trial(s) at 1M rows (about 100 s each): its 1M figures are "
                "one run, not a median of 3"
            )
        notes.append(
            "target: PERFORMANCE.md's absolute figure and, in brackets, the ratio it implies against "
            "Evidently's anchor there; the verdict judges that ratio (absolute figures are a guide)"
        )
    notes.append(
        f"noise: the benchmark took {elapsed:.0f} s; other processes kept {others:.0%} of the machine's "
        f"{os.cpu_count()} cores busy meanwhile (/proc/stat minus this benchmark's own CPU time)"
    )
    if versions:
        notes.append(
            "versions: "
            + "; ".join(
                f"{tool} venv pandas {v['pandas']}, NumPy {v['numpy']}, pyarrow {v['pyarrow']}, SciPy {v['scipy']}"
                for tool, v in versions.items()
            )
            + (f"; evidently {evidently_version}" if "Evidently" in versions else "")
        )
    harness.report(rows_out, notes, args.markdown)

    rates: dict[str, Any] = {}
    if bench.detections:
        rates = bench.rates()
        text, md, detection_notes = detection_table(rates, trials, peer_trials)
        print()
        print(text)
        for note in detection_notes:
            print(f"  {note}")
        if args.markdown:
            with args.markdown.open("a") as handle:
                handle.write("\n" + md + "\n\n" + "\n".join(f"- {n}" for n in detection_notes) + "\n")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "rows": harness.raw_results(rows_out),
                    "data": {str(rows): info for rows, (_, info) in data.items()},
                    "trials": bench.trials,
                    "rates": rates,
                    "detections": bench.detections,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
