"""Shared helpers for Keel's benchmarks against peer tools (stdlib only).

A benchmark here runs every trial in a fresh subprocess: a *worker* script is written to a
temporary file, run with the interpreter of the tool being measured (Keel's project virtualenv
or a peer's own virtualenv under ``benchmarks/.venvs/<name>``), and prints exactly one JSON
object as the last line of its stdout. Peer and Keel trials alternate so that a slow patch of
a noisy machine hurts both sides alike, and the table reports medians and their ratio.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"
WORK_DIR = BENCH_DIR / ".work"
KEEL_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"

#: Environment variables that would point a worker at some other project or store.
_SCRUBBED_VARS = ("KEEL_WORKSPACE", "KEEL_RUN_ID", "KEEL_DB_URL", "MLFLOW_TRACKING_URI", "PYTHONPATH")


def log(message: str) -> None:
    """Progress goes to stderr so that stdout holds only the results."""
    print(message, file=sys.stderr, flush=True)


# -- virtual environments for peers ---------------------------------------------------------


@dataclass(frozen=True)
class Venv:
    """A virtual environment of one tool: its interpreter and its console scripts."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.root / "bin" / name

    def site_packages(self) -> Path:
        found = sorted((self.root / "lib").glob("python3*/site-packages"))
        if not found:
            raise RuntimeError(f"No site-packages under {self.root}")
        return found[0]


def ensure_venv(name: str, requirements: Sequence[str], *, compile_bytecode: bool = True) -> Venv:
    """Create (or reuse) ``benchmarks/.venvs/<name>`` with ``requirements`` installed.

    A marker file records what was installed, so a second call with the same requirements
    returns at once. ``compile_bytecode`` byte-compiles site-packages after the install: with
    PYTHONDONTWRITEBYTECODE set, an uncompiled venv would pay compilation on every import and
    make import-time comparisons unfair.
    """
    venv = Venv(VENVS_DIR / name)
    marker = venv.root / ".keel-bench-installed"
    wanted = "\n".join(requirements) + "\n"
    if venv.python.exists() and marker.exists() and marker.read_text() == wanted:
        log(f"[setup] {name}: reusing {venv.root} ({', '.join(requirements)})")
        return venv
    if not venv.python.exists():
        log(f"[setup] {name}: creating virtual environment {venv.root}")
        VENVS_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv.root)], check=True)
    log(f"[setup] {name}: pip install {' '.join(requirements)} (this can take a few minutes)")
    started = time.perf_counter()
    subprocess.run(
        [str(venv.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
        check=True,
        stdout=sys.stderr,
    )
    if compile_bytecode:
        log(f"[setup] {name}: compiling bytecode in site-packages")
        subprocess.run(
            [str(venv.python), "-m", "compileall", "-q", "-j", "0", str(venv.site_packages())],
            check=False,  # a few vendored test files never compile; that is fine
            stdout=subprocess.DEVNULL,
            env=worker_env(),
        )
    marker.write_text(wanted)
    log(f"[setup] {name}: ready in {time.perf_counter() - started:.0f} s")
    return venv


# -- running workers -------------------------------------------------------------------------


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker: this one, without variables that select a store."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_VARS}
    env.setdefault("PYTHONHASHSEED", "0")
    env.update(extra or {})
    return env


def run_worker(
    python: Path | str,
    source: str,
    *,
    args: Sequence[str] = (),
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
) -> dict[str, Any]:
    """Run ``source`` as a script in a fresh ``python`` process; return its last stdout line as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix="_worker.py", delete=False) as handle:
        handle.write(source)
        script = Path(handle.name)
    try:
        done = subprocess.run(
            [str(python), str(script), *args],
            cwd=cwd,
            env=worker_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        script.unlink(missing_ok=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"worker failed (exit {done.returncode}) with {python}:\n{done.stderr[-4000:]}\n{done.stdout[-2000:]}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def time_command(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    """Wall-clock seconds of one run of ``argv`` (output discarded; it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(
        list(argv),
        cwd=cwd,
        env=worker_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}"
        )
    return elapsed


def run_command(
    argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Like :func:`time_command`, but also return the command's output (stdout, then stderr).

    Output goes to pipes, as with :func:`time_command`, so neither tool draws progress bars.
    """
    started = time.perf_counter()
    done = subprocess.run(
        list(argv),
        cwd=cwd,
        env=worker_env(env),
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    output = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {done.returncode}): {output[-2000:]}")
    return elapsed, output


def fresh_dir(prefix: str) -> Path:
    """A new empty temporary folder (remove it with :func:`remove_dir`)."""
    return Path(tempfile.mkdtemp(prefix=f"keel-bench-{prefix}-"))


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def median(values: Iterable[float]) -> float:
    data = list(values)
    if not data:
        raise ValueError("median of no values")
    return statistics.median(data)


def alternate(
    repeats: int, peer: Callable[[int], float] | None, keel: Callable[[int], float]
) -> tuple[list[float], list[float]]:
    """Run ``repeats`` trials of each side, peer first then Keel, alternating; return both lists."""
    peer_values: list[float] = []
    keel_values: list[float] = []
    for trial in range(repeats):
        if peer is not None:
            peer_values.append(peer(trial))
        keel_values.append(keel(trial))
    return peer_values, keel_values


def running_benchmarks() -> list[str]:
    """Command lines of other processes running a ``bench_*.py`` script of this folder.

    Two benchmarks at once on a small machine corrupt both; callers wait until this is empty.
    """
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in (me, os.getppid()):
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if any(Path(w).name.startswith("bench_") and w.endswith(".py") for w in words[1:3]):
            found.append(" ".join(words))
    return found


def drop_keel_settings() -> None:
    """Remove KEEL_* settings from this process's environment (saying so): each tool must run
    on its defaults, not on the caller's store or objects folder."""
    for name in [k for k in os.environ if k.startswith("KEEL_")]:
        log(f"[setup] ignoring {name} from the environment")
        del os.environ[name]


def wait_for_quiet_machine(poll_seconds: float = 30.0) -> None:
    """Block while another benchmark of this folder runs (see :func:`running_benchmarks`)."""
    while others := running_benchmarks():
        log(f"[wait] another benchmark is running ({others[0]}); checking again in {poll_seconds:.0f} s")
        time.sleep(poll_seconds)


# -- results -----------------------------------------------------------------------------------


@dataclass
class Row:
    """One workload's result.

    ``higher_is_better`` says whether the figures are rates (points/s, runs/s) or times (s).
    ``target`` is Keel's absolute target: a rate must reach it, a time must not exceed it.
    ``anchor`` is the peer's figure that the target was set against (PERFORMANCE.md): the
    target is really the ratio target/anchor, to be met against the peer measured in the same
    run, since machines differ (absolute figures are only a guide).
    """

    workload: str
    unit: str
    higher_is_better: bool
    target: float | None
    keel: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    peer_name: str = "MLflow"
    note: str = ""
    anchor: float | None = None

    @property
    def keel_median(self) -> float | None:
        return median(self.keel) if self.keel else None

    @property
    def peer_median(self) -> float | None:
        return median(self.peer) if self.peer else None

    @property
    def ratio(self) -> float | None:
        """How many times better Keel is: peer time / Keel time, or Keel rate / peer rate."""
        k, p = self.keel_median, self.peer_median
        if k is None or p is None or k == 0 or p == 0:
            return None
        return k / p if self.higher_is_better else p / k

    @property
    def required_ratio(self) -> float | None:
        """The ratio the target implies against the anchor (e.g. 200,000 / 289 points/s)."""
        if self.target is None or self.anchor is None:
            return None
        return self.target / self.anchor if self.higher_is_better else self.anchor / self.target

    @property
    def absolute_met(self) -> bool | None:
        k = self.keel_median
        if k is None or self.target is None:
            return None
        return k >= self.target if self.higher_is_better else k <= self.target

    @property
    def ratio_met(self) -> bool | None:
        ratio, required = self.ratio, self.required_ratio
        if ratio is None or required is None:
            return None
        return ratio >= required

    @property
    def verdict(self) -> str:
        """Judged by the ratio when the peer was measured, else by the absolute target."""
        if self.keel_median is None:
            return "not run"
        absolute, ratio = self.absolute_met, self.ratio_met
        if absolute is None:
            return "-"
        if ratio is None:
            return "MET" if absolute else "MISSED"
        if ratio == absolute:
            return "MET" if ratio else "MISSED"
        return "MET (ratio; absolute missed)" if ratio else "MISSED (ratio; absolute met)"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.1f} ms"
        return f"{value:.2f} s"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.1f} {unit}"


def format_target(row: Row) -> str:
    if row.target is None:
        return "-"
    sign = "≥" if row.higher_is_better else "≤"
    text = f"{sign} {format_value(row.target, row.unit)}"
    if row.required_ratio is not None:
        text += f" (≥ {format_ratio(row.required_ratio)})"
    return text


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.1f}×"


HEADERS = ("workload", "Keel (median)", "peer (median)", "ratio", "target", "verdict")


def table_cells(rows: Sequence[Row]) -> list[tuple[str, ...]]:
    cells: list[tuple[str, ...]] = []
    for row in rows:
        peer = format_value(row.peer_median, row.unit)
        if row.peer_median is not None:
            peer = f"{row.peer_name} {peer}"
        elif row.note:
            peer = f"({row.note})"
        cells.append(
            (
                row.workload,
                format_value(row.keel_median, row.unit),
                peer,
                format_ratio(row.ratio),
                format_target(row),
                row.verdict,
            )
        )
    return cells


def text_table(rows: Sequence[Row]) -> str:
    return plain_table(HEADERS, table_cells(rows))


def plain_table(headers: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces, a dashed rule under the headers."""
    cells = [headers, *lines]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    out = []
    for index, line in enumerate(cells):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def markdown_table(rows: Sequence[Row]) -> str:
    return markdown_grid(HEADERS, table_cells(rows))


def markdown_grid(headers: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    """A Markdown table (``|`` in cells escaped)."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines]
    return "\n".join(out)


def raw_results(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Every trial's figure, for anyone who wants more than the medians."""
    return [
        {
            "workload": row.workload,
            "unit": row.unit,
            "keel": row.keel,
            "peer": row.peer,
            "peer_name": row.peer_name,
            "target": row.target,
            "anchor": row.anchor,
            "required_ratio": row.required_ratio,
            "verdict": row.verdict,
        }
        for row in rows
    ]


def report(
    rows: Sequence[Row],
    notes: Sequence[str],
    markdown: Path | None = None,
    json_file: Path | None = None,
    raw: Any = None,
) -> None:
    """Print the table and its notes; also write them as Markdown and the figures as JSON
    (``raw``, default :func:`raw_results`) when asked."""
    print(text_table(rows))
    for note in notes:
        print(f"  {note}")
    if markdown:
        markdown.write_text(markdown_table(rows) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n")
        log(f"wrote {markdown}")
    if json_file:
        json_file.write_text(json.dumps(raw_results(rows) if raw is None else raw, indent=2) + "\n")
        log(f"wrote {json_file}")
