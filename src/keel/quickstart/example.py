"""Files of the quickstart's example project."""

from __future__ import annotations

PARAMS_YAML = """\
# Parameters of src/train.py. Change one and run it again: `keel runs compare` shows the effect.
train:
  n_estimators: 60
  max_depth: 3
  max_features: 1
  test_size: 0.4
  seed: 7
"""

TRAIN_PY = '''\
"""Train a random forest on the wine data (data/raw/wine.csv) and record it with Keel.

Run it as a tracked run:   keel track --experiment quickstart -- python src/train.py
or on its own (it then starts its own run with keel.start_run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.model_selection import train_test_split

import keel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-depth", type=int, help="overrides train.max_depth in params.yaml")
    args = parser.parse_args()

    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    if args.max_depth is not None:
        params["max_depth"] = args.max_depth

    with keel.start_run(experiment="quickstart", params=params):
        # The data version this run reads, as keel.lock records it (`keel data add data/raw`).
        dataset = keel.dataset("data/raw/wine.csv")
        keel.log_input(dataset)
        table = pd.read_csv("data/raw/wine.csv")
        features, target = table.drop(columns=["target"]), table["target"]
        x_train, x_test, y_train, y_test = train_test_split(
            features, target, test_size=params["test_size"], random_state=params["seed"], stratify=target,
        )
        keel.log_params({"rows": len(table)})

        # Grow the forest ten trees at a time and log the test accuracy as it improves:
        # one metric, many steps (see it with `keel runs history RUN accuracy_by_trees`).
        model = RandomForestClassifier(
            n_estimators=0,
            max_depth=params["max_depth"],
            max_features=params["max_features"],
            random_state=params["seed"],
            warm_start=True,
        )
        for trees in range(10, params["n_estimators"] + 1, 10):
            model.set_params(n_estimators=trees)
            model.fit(x_train, y_train)
            keel.log_metric("accuracy_by_trees", accuracy_score(y_test, model.predict(x_test)), step=trees)

        predictions = model.predict(x_test)
        accuracy = accuracy_score(y_test, predictions)
        f1 = f1_score(y_test, predictions, average="macro")
        keel.log_metrics({"accuracy": accuracy, "f1_macro": f1})
        keel.log_dict(
            {"labels": sorted(str(c) for c in target.unique()),
             "matrix": confusion_matrix(y_test, predictions).tolist()},
            "confusion_matrix.json",
        )
        importances = sorted(
            zip(features.columns, model.feature_importances_), key=lambda item: -item[1]
        )
        keel.log_dict({name: round(float(v), 4) for name, v in importances}, "feature_importances.json")
        print(f"max_depth={params['max_depth']}: accuracy={accuracy:.3f} f1_macro={f1:.3f}")


if __name__ == "__main__":
    main()
'''

README_MD = """\
# Keel quickstart project

Made by `keel quickstart`. `data/raw/wine.csv` (scikit-learn's wine data set) is versioned
with Keel (`keel.lock`); `src/train.py` trains a random forest on it (parameters in
`params.yaml`), and every training is a Keel run that records the data version it read.

Try:

    keel runs list                      # what was recorded
    keel runs show RUN_ID               # params, metrics, artifacts, context of one run
    keel runs compare RUN_A RUN_B       # what differs between runs
    keel runs history RUN_ID accuracy_by_trees
    keel data status                    # has the data changed since keel.lock recorded it?
    keel track --experiment quickstart -- python src/train.py --max-depth 6
"""
