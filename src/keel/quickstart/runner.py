"""``keel quickstart``: build the example project and run Keel's loop on it — version the
data, run the pipeline, rerun it (nothing to do), sweep a parameter — narrating each step
with the command a user would type."""

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
        f"[step] Sweep the tree depth     $ keel run --set train.max_depth={','.join(map(str, DEPTHS))} --sort -metrics.accuracy"
    )
    sweep = run_sweep(workspace, {"train.max_depth": list(DEPTHS)}, experiment=EXPERIMENT)
    if not sweep.ok:
        raise InvalidInput("The example sweep failed; see `keel runs list` in the project.")
    result.sweep_run = sweep.run_id
    result.sweep_rows = sweep.rows("-metrics.accuracy")
    return result


def _narrate(say: Say) -> Callable[[Any], None]:
    def listen(report: Any) -> None:
        if report.state in ("ran", "restored", "failed"):
            duration = f" in {report.duration:.1f} s" if report.duration else ""
            say(f"        {report.name}: {report.state}{duration}")

    return listen
