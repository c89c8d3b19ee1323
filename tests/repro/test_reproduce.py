"""Reproducing runs for real: git worktrees, inputs by id (also from a remote, in a clean
clone), seeds, non-determinism, verdicts, and `keel env` diffs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import keel
from keel.core.errors import InvalidInput
from tests.conftest import run_keel
from tests.data.conftest import git

TRAIN = """
import json, random
import numpy as np
import keel

params = keel.params()["train"]
if params["seeded"]:
    keel.seed(7)
rows = [float(v) for v in open("data/values.csv").read().split()]
noise = np.random.normal(0, params["noise"], len(rows))
score = sum(r + n for r, n in zip(rows, noise)) / len(rows) + random.random() * params["noise"]
json.dump({"score": score}, open("metrics.json", "w"))
open("model.txt", "w").write(repr(score))
"""

STAGES = """
stages:
  train:
    cmd: python train.py
    deps: [data/values.csv, train.py]
    params: [train]
    outs: [model.txt]
    metrics: [metrics.json]
"""


def _project(project: Path, seeded: bool) -> Path:
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "values.csv").write_text("\n".join(str(i) for i in range(100)) + "\n")
    (project / "train.py").write_text(TRAIN)
    (project / "params.yaml").write_text(f"train:\n  seeded: {str(seeded).lower()}\n  noise: 0.5\n")
    (project / "keel.yaml").write_text((project / "keel.yaml").read_text() + STAGES)
    assert run_keel("data", "add", "data/values.csv", cwd=project).returncode == 0
    git(project, "init", "-q")
    git(project, "config", "user.email", "test@keel.invalid")
    git(project, "config", "user.name", "Keel tests")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "project")
    ran = run_keel("run", "--json", cwd=project, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return project


def _train_run(project: Path) -> str:
    runs = json.loads(
        run_keel("runs", "list", "--filter", "attributes.name = 'train'", "--json", cwd=project).stdout
    )
    return str(runs[0]["id"])  # the newest


def test_a_seeded_stage_reproduces_identical_twice(project: Path) -> None:
    _project(project, seeded=True)
    run_id = _train_run(project)
    shown = json.loads(run_keel("runs", "show", run_id, "--json", cwd=project).stdout)
    assert shown["tags"]["keel.seed"] == "7"
    result = run_keel("reproduce", run_id, "--twice", "--json", cwd=project, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "identical" and report["deterministic"] is True
    assert {(i["kind"], i["name"], i["verdict"]) for i in report["items"]} == {
        ("output", "model.txt", "identical"),
        ("output", "metrics.json", "identical"),
        ("metric", "score", "identical"),
    }
    assert len(report["reproductions"]) == 2
    again = json.loads(run_keel("runs", "show", report["reproductions"][0], "--json", cwd=project).stdout)
    assert (
        again["tags"]["keel.reproduces"] == run_id and again["tags"]["keel.reproduce.verdict"] == "identical"
    )
    # the reproduction records the code it ran (the commit, in its worktree) and the same inputs
    same = json.loads(
        run_keel("env", "diff", run_id, report["reproductions"][0], "--json", cwd=project).stdout
    )
    assert same["sections"]["code"] == [] and same["sections"]["data"] == []
    assert same["sections"]["params"] == [] and same["sections"]["seeds"] == []
    worktrees = git(project, "worktree", "list")
    assert len(worktrees.strip().splitlines()) == 1  # the scratch worktree is gone
    # a text report too
    text = run_keel("reproduce", run_id, cwd=project, timeout=300)
    assert text.returncode == 0 and "\nIDENTICAL: reproduction of run" in text.stdout


def test_an_unseeded_random_step_is_reported_non_deterministic_with_the_cause(project: Path) -> None:
    _project(project, seeded=False)
    run_id = _train_run(project)
    result = run_keel("reproduce", run_id, "--twice", "--json", cwd=project, timeout=300)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["verdict"] == "differs" and report["deterministic"] is False
    assert any("no keel.seed" in note and "unseeded randomness" in note for note in report["notes"])
    loose = json.loads(
        run_keel("reproduce", run_id, "--rtol", "0.5", "--json", cwd=project, timeout=300).stdout
    )
    assert loose["verdict"] in ("differs", "within tolerance")  # outputs differ by id; the metric is close
    metric = next(i for i in loose["items"] if i["kind"] == "metric")
    assert metric["verdict"] == "within tolerance"


def test_reproduce_from_a_clean_clone_with_data_from_the_remote(project: Path, tmp_path: Path) -> None:
    _project(project, seeded=True)
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "store", str(remote), cwd=project).returncode == 0
    git(project, "commit", "-qam", "remote")
    assert run_keel("push", cwd=project).returncode == 0
    run_id = _train_run(project)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True, capture_output=True)
    assert not (clone / "data" / "values.csv").exists()  # data is not in git
    env = {"KEEL_DB_URL": f"sqlite:///{project / '.keel' / 'keel.db'}"}  # the team's shared store
    result = run_keel("reproduce", run_id, "--json", cwd=clone, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["verdict"] == "identical"
    assert (clone / ".keel" / "objects").is_dir()  # fetched into the clone's own store


def test_env_diff_explains_two_runs_and_env_show(project: Path) -> None:
    _project(project, seeded=True)
    first = _train_run(project)
    (project / "params.yaml").write_text("train:\n  seeded: true\n  noise: 0.9\n")
    (project / "train.py").write_text(TRAIN.replace("keel.seed(7)", "keel.seed(8)"))
    assert run_keel("run", cwd=project, timeout=300).returncode == 0
    second = _train_run(project)
    diff = json.loads(run_keel("env", "diff", first, second, "--json", cwd=project).stdout)
    sections = diff["sections"]
    assert diff["same"] is False
    assert sections["params"] == ["param train.noise: 0.5 → 0.9"]
    assert sections["seeds"] == ["keel.seed: 7 → 8"]
    assert any("uncommitted changes" in line for line in sections["code"])  # train.py edited, not committed
    assert any(line.startswith("input train.py") for line in sections["data"])
    assert sections["packages"] == [] and sections["platform"] == []
    text = run_keel("env", "diff", first, second, cwd=project).stdout
    assert "params:\n  param train.noise: 0.5 → 0.9" in text and "packages: same" in text
    shown = json.loads(run_keel("env", "show", second, "--json", cwd=project).stdout)
    assert shown["seed"] == "8" and shown["code"]["dirty"] is True and shown["packages"] > 10
    assert shown["cpu"] and shown["python"]["version"]
    patch = run_keel("env", "show", second, "--diff", cwd=project).stdout
    assert "keel.seed(8)" in patch
    # the edited code is reproduced too: the recorded diff is applied in the worktree
    result = json.loads(run_keel("reproduce", second, "--json", cwd=project, timeout=300).stdout)
    assert result["verdict"] == "identical"


def test_what_cannot_be_reproduced_says_why(project: Path, tmp_path: Path) -> None:
    # no git: the code cannot be restored
    (project / "script.py").write_text("import keel\nkeel.log_metric('x', 1.0)\n")
    tracked = run_keel("track", "--", sys.executable, "script.py", cwd=project)
    assert tracked.returncode == 0, tracked.stderr
    runs = json.loads(run_keel("runs", "list", "--json", cwd=project).stdout)
    result = run_keel("reproduce", runs[0]["id"], cwd=project)
    assert result.returncode == 2 and "not made from a git commit" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_keel("reproduce", "nope", cwd=project).returncode == 2
    assert run_keel("reproduce", "abcdef12", cwd=project).returncode == 3
    unknown = run_keel("env", "diff", runs[0]["id"], "abcdef12", cwd=project)
    assert unknown.returncode == 3 and "abcdef12" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = run_keel("reproduce", runs[0]["id"], "--env", "docker", cwd=project)
    assert bad.returncode == 2
    # a run still in progress
    with keel.start_run(experiment="live") as live:
        keel.flush()
        busy = run_keel("reproduce", live.id, cwd=project)
        assert busy.returncode == 2 and "still running" in busy.stderr
    with pytest.raises(InvalidInput, match="whole number"):
        keel.seed(-1)


def test_keel_seed_seeds_everything_and_tags_the_run(project: Path) -> None:
    import random

    import numpy as np

    with keel.start_run(experiment="seeds") as run:
        keel.seed(11)
        first = (random.random(), float(np.random.rand()))
        keel.seed(11)
        assert (random.random(), float(np.random.rand())) == first
        assert os.environ["PYTHONHASHSEED"] == "11"
    keel.flush()
    assert keel.get_run(run.id).tags["keel.seed"] == "11"
    assert shutil.which("git")  # the reproduction tests above need it


@pytest.mark.slow
def test_reproduce_in_a_fresh_virtualenv_with_the_recorded_versions(project: Path) -> None:
    """--env venv: a new virtualenv gets exactly the recorded distributions (from PyPI or the
    pip cache), then the run is made again in it."""
    _project(project, seeded=True)
    run_id = _train_run(project)
    result = run_keel("reproduce", run_id, "--env", "venv", "--json", cwd=project, timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "identical"
    assert report["packages"] == []  # the venv holds the recorded versions
