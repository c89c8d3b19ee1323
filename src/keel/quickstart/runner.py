"""``keel quickstart``: build the example project and run Keel's loop on it, narrating each
step with the command a user would type."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from keel.core.errors import Conflict, InvalidInput
from keel.quickstart import example

EXPERIMENT = "quickstart"
DEPTHS = (1, 2, 3)


@dataclass
class QuickstartResult:
    root: Path
    run_ids: list[str] = field(default_factory=list)
    best_run: str | None = None
    git_commit: str | None = None
    dataset_oid: str | None = None


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
    from keel.project.scaffold import init_project
    from keel.tracking.command import track_command
    from keel.tracking.queries import search_runs
    from keel.tracking.session import session_for_workspace

    root = target.expanduser().resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise Conflict(f"{target} already exists and is not empty; give the quickstart a new folder.")
    if not root.parent.exists():
        raise InvalidInput(f"{root.parent} does not exist; create it first or choose another folder.")

    say(f"[step] Create a project          $ keel init {target}")
    init_project(root, name="keel-quickstart")
    (root / "params.yaml").write_text(example.PARAMS_YAML, encoding="utf-8")
    (root / "src" / "train.py").write_text(example.TRAIN_PY, encoding="utf-8")
    (root / "README.md").write_text(example.README_MD, encoding="utf-8")
    result = QuickstartResult(root)

    from keel.core.workspace import load_workspace
    from keel.data.add import add_paths
    from keel.data.context import open_data

    workspace = load_workspace(root)
    say("[step] Version the raw data      $ keel data add data/raw")
    _write_dataset(root / "data" / "raw" / "wine.csv")
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

    session = session_for_workspace(workspace)
    for depth in DEPTHS:
        name = f"rf-depth-{depth}"
        say(
            f"[step] Track a training run      $ keel track --experiment {EXPERIMENT} --name {name} "
            f"-- python src/train.py --max-depth {depth}"
        )
        with ExitStack() as stack:
            sink = None if show_output else stack.enter_context(open(os.devnull, "wb"))
            outcome = track_command(
                [sys.executable, "src/train.py", "--max-depth", str(depth)],
                experiment=EXPERIMENT,
                name=name,
                cwd=root,
                stdout=sink,
                stderr=sink,
                session=session,
            )
        if outcome.exit_code != 0:
            raise InvalidInput(
                f"The example training failed (exit code {outcome.exit_code}); "
                f"see `keel runs artifact {outcome.run_id[:12]} stderr.log` in {root}."
            )
        result.run_ids.append(outcome.run_id)

    ranked = search_runs(experiment=EXPERIMENT, order_by=["metrics.accuracy desc"], session=session)
    result.best_run = ranked[0].id if ranked else None
    return result
