"""A small project with a three-stage pipeline: prepare → train → evaluate."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import run_keel
from tests.data.conftest import git

PREPARE = """
import pathlib, sys
out = pathlib.Path("data/processed")
out.mkdir(parents=True, exist_ok=True)
rows = pathlib.Path("data/raw/rows.csv").read_text().splitlines()
(out / "rows.csv").write_text("\\n".join(r.upper() for r in rows) + "\\n")
"""

TRAIN = """
import json, pathlib, keel
params = keel.params()["train"]
rows = pathlib.Path("data/processed/rows.csv").read_text().splitlines()
keel.log_metric("rows_seen", len(rows))
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/model.json").write_text(json.dumps({"lr": params["lr"], "rows": len(rows)}))
"""

EVALUATE = """
import json, pathlib
model = json.loads(pathlib.Path("models/model.json").read_text())
pathlib.Path("reports").mkdir(exist_ok=True)
pathlib.Path("reports/metrics.json").write_text(json.dumps({"score": model["lr"] * 10, "rows": model["rows"]}))
"""

STAGES = """
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw, src/prepare.py]
    outs: [data/processed]
  train:
    cmd: python src/train.py
    deps: [data/processed, src/train.py]
    params: [train]
    outs: [models/model.json]
  evaluate:
    cmd: python src/evaluate.py
    deps: [models/model.json, src/evaluate.py]
    metrics: [reports/metrics.json]
"""


def make_pipeline_project(root: Path, stages: str = STAGES) -> Path:
    result = run_keel("init", root.name, cwd=root.parent)
    assert result.returncode == 0, result.stderr
    (root / "data" / "raw" / "rows.csv").write_text("a\nb\nc\n")
    for name, code in (("prepare", PREPARE), ("train", TRAIN), ("evaluate", EVALUATE)):
        (root / "src" / f"{name}.py").write_text(textwrap.dedent(code))
    (root / "params.yaml").write_text("train:\n  lr: 0.1\n  epochs: 3\n")
    with (root / "keel.yaml").open("a") as fh:
        fh.write(stages)
    git(root, "init", "-q")
    git(root, "config", "user.email", "test@keel.invalid")
    git(root, "config", "user.name", "Keel tests")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pipeline")
    return root


@pytest.fixture
def pipeline_project(tmp_path: Path) -> Path:
    return make_pipeline_project(tmp_path / "proj")
