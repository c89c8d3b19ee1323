"""Files of the quickstart's example project: a three-stage pipeline on the wine data."""

from __future__ import annotations

PARAMS_YAML = """\
# Parameters of the pipeline's stages. Change one and `keel run` reruns only what reads it;
# `keel run --set train.max_depth=2,4` sweeps values.
prepare:
  test_size: 0.4
  seed: 7
train:
  n_estimators: 60
  max_depth: 3
  max_features: 1
  seed: 7
"""

STAGES_YAML = """
# The pipeline: `keel run` runs what changed, `keel dag` draws it (docs/pipelines.md).
stages:
  prepare:
    cmd: python src/prepare.py
    deps: [data/raw/wine.csv, src/prepare.py]
    params: [prepare]
    outs: [data/processed]
    checks:                     # validate the raw and the processed data (docs/checks.md)
      - {data: data/raw/wine.csv, schema: checks/wine.schema.yaml}
      - {data: data/processed/train.csv, schema: checks/train.schema.yaml}
  train:
    cmd: python src/train.py
    deps: [data/processed/train.csv, src/train.py]
    params: [train]
    outs: [models/model.joblib]
    checks:                     # the version this stage registers must pass before anything uses it
      - {model: wine, spec: checks/wine.model.yaml}
  evaluate:
    cmd: python src/evaluate.py
    deps: [models/model.joblib, data/processed/test.csv, src/evaluate.py]
    metrics: [reports/metrics.json]
"""

PREPARE_PY = '''\
"""Split the raw wine data into a training and a test set (data/processed)."""

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

import keel

params = keel.params()["prepare"]
table = pd.read_csv("data/raw/wine.csv")
train, test = train_test_split(
    table, test_size=params["test_size"], random_state=params["seed"], stratify=table["target"]
)
Path("data/processed").mkdir(parents=True, exist_ok=True)
train.to_csv("data/processed/train.csv", index=False)
test.to_csv("data/processed/test.csv", index=False)
keel.log_metrics({"train_rows": len(train), "test_rows": len(test)})
'''

TRAIN_PY = '''\
"""Train a random forest on data/processed/train.csv; log its accuracy as it grows."""

from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

import keel

params = keel.params()["train"]
train = pd.read_csv("data/processed/train.csv")
features, target = train.drop(columns=["target"]), train["target"]

# Grow the forest ten trees at a time and log the cross-validated accuracy as it improves:
# one metric, many steps (see it with `keel runs history RUN cv_accuracy`).
model = RandomForestClassifier(
    n_estimators=0,
    max_depth=params["max_depth"],
    max_features=params["max_features"],
    random_state=params["seed"],
    warm_start=True,
)
for trees in range(10, params["n_estimators"] + 1, 10):
    model.set_params(n_estimators=trees)
    model.fit(features, target)
    keel.log_metric("cv_accuracy", cross_val_score(model, features, target, cv=3).mean(), step=trees)

Path("models").mkdir(exist_ok=True)
joblib.dump(model, "models/model.joblib")
# Register it: a new version of the model "wine" (packaged with skops, no pickle), linked to
# this stage's run, so `keel models lineage wine@production` leads back to data and commit.
keel.log_model(model, "wine", input_example=features.head())
importances = sorted(zip(features.columns, model.feature_importances_), key=lambda item: -item[1])
keel.log_dict({name: round(float(v), 4) for name, v in importances}, "feature_importances.json")
'''

EVALUATE_PY = '''\
"""Score the model on the test set; write reports/metrics.json (logged to the stage's run)."""

import json
from pathlib import Path

import joblib
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

import keel

model = joblib.load("models/model.joblib")
test = pd.read_csv("data/processed/test.csv")
features, target = test.drop(columns=["target"]), test["target"]
predictions = model.predict(features)
metrics = {"accuracy": accuracy_score(target, predictions), "f1_macro": f1_score(target, predictions, average="macro")}
Path("reports").mkdir(exist_ok=True)
Path("reports/metrics.json").write_text(json.dumps(metrics, indent=2))
keel.log_dict({"matrix": confusion_matrix(target, predictions).tolist()}, "confusion_matrix.json")
print(f"accuracy={metrics['accuracy']:.3f} f1_macro={metrics['f1_macro']:.3f}")
'''

MODEL_CHECKS_YAML = """\
# Quality gates for the model "wine" (docs/checks.md). The train stage runs them on the
# version it registers; `keel models alias wine V production` accepts only versions that passed.
format: 1
model: wine
required_for: [production]
data: data/processed/test.csv
label: target
checks:
  - metric: accuracy              # good enough in absolute terms
    min: 0.9
  - baseline: most_frequent       # clearly better than always answering the commonest class
    metric: f1_macro
    margin: 0.3
  - against: production           # no worse than the model serving now
    metric: f1_macro
    tolerance: 0.02
"""

MONITORS_YAML = """
# Continuous training (docs/monitoring.md): `keel monitor run` evaluates this rule on the
# served model's traffic; when it fires, the pipeline retrains and the new version moves to
# production only if its checks pass.
monitors:
  wine-drift:
    model: wine@production
    since: 1h
    when: [drift_share > 0.3]
    actions:
      - run: {params: {train.n_estimators: 100, train.max_depth: 4}, promote: true}
    cooldown: 1h
"""

#: Input columns shifted in the quickstart's drifted traffic (by 1.5 standard deviations).
DRIFTED_COLUMNS = ("alcohol", "malic_acid", "ash", "magnesium", "flavanoids", "color_intensity", "proline")

README_MD = """\
# Keel quickstart project

Made by `keel quickstart`. `data/raw/wine.csv` (scikit-learn's wine data set) is versioned
with Keel (`keel.lock`), and a pipeline in `keel.yaml` prepares it, trains a random forest
and evaluates it (parameters in `params.yaml`). Checks in `checks/` validate the raw and
processed data and gate every trained model on quality and on no regression. Every stage is a Keel run that records its
parameters, metrics, the data versions it read and wrote, and where it ran.

Try:

    keel dag                            # the pipeline
    keel run                            # nothing changed: nothing runs
    keel run --set train.max_depth=2,4 --sort -metrics.accuracy
    keel runs list                      # what was recorded
    keel runs show RUN_ID               # params, metrics, data, artifacts, context of one run
    keel runs history RUN_ID cv_accuracy
    keel data status                    # has the data changed since keel.lock recorded it?
    keel models list                    # every training registered a version of "wine"
    keel models lineage wine@production # the run, data, commit and environment behind it
    keel check data data/raw/wine.csv --schema checks/wine.schema.yaml
    keel check history                  # every data and model check, and how it went
    keel serve wine@production          # answer POST /predict on http://127.0.0.1:8000
    keel monitor drift --model wine@production --html reports/drift.html
    keel monitor history                # what the monitor rule in keel.yaml decided
    keel predictions export wine -o predictions.csv
"""
