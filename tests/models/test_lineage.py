"""A model registered from a pipeline stage traces back to its data, commit and upstream stages."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from tests.conftest import run_keel
from tests.data.conftest import git
from tests.pipeline.conftest import STAGES, make_pipeline_project

TRAIN_AND_REGISTER = """
import pathlib, json, keel
import pandas as pd
from sklearn.tree import DecisionTreeClassifier
rows = pathlib.Path("data/processed/rows.csv").read_text().split()
X = pd.DataFrame({"n": [float(i) for i in range(len(rows))], "size": [float(len(r)) for r in rows]})
y = [i % 2 for i in range(len(rows))]
model = DecisionTreeClassifier(max_depth=keel.params()["train"]["epochs"]).fit(X, y)
keel.log_metric("train_acc", float(model.score(X, y)))
keel.log_model(model, "rows", input_example=X)
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path("models/model.json").write_text(json.dumps({"lr": 0.1, "rows": len(rows)}))
"""


def test_lineage_of_a_model_made_by_a_pipeline(tmp_path: Path) -> None:
    root = make_pipeline_project(tmp_path / "proj", STAGES)
    (root / "src" / "train.py").write_text(textwrap.dedent(TRAIN_AND_REGISTER))
    git(root, "commit", "-qam", "train registers the model")
    commit = git(root, "rev-parse", "HEAD").strip()
    ran = run_keel("run", cwd=root, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    moved = run_keel("models", "alias", "rows", "1", "production", cwd=root)
    assert moved.returncode == 0, moved.stderr
    result = run_keel("models", "lineage", "rows@production", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    run = found["run"]
    assert run["name"] == "train" and run["kind"] == "stage"
    assert run["git"]["commit"] == commit
    assert run["params"]["train.epochs"] == 3
    assert run["metrics"]["train_acc"] == 1.0
    assert {d["path"] for d in run["inputs"]} >= {"data/processed", "src/train.py"}
    assert run["environment"]["python"]
    [upstream] = [u for u in found["upstream"] if u["name"] == "prepare"]
    assert [d["path"] for d in upstream["produced"]] == ["data/processed"]
    assert upstream["for_run"] == run["id"]
    assert found["signature"]["inputs"] == [
        {"name": "n", "type": "float", "nullable": False},
        {"name": "size", "type": "float", "nullable": False},
    ]
    text = run_keel("models", "lineage", "rows@production", cwd=root)
    assert text.returncode == 0 and commit[:12] in text.stdout and "prepare" in text.stdout
