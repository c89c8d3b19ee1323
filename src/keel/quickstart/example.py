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
"""Train a random forest on scikit-learn's wine data set and record it with Keel.

Run it as a tracked run:   keel track --experiment quickstart -- python src/train.py
or on its own (it then starts its own run with keel.start_run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from sklearn.datasets import load_wine
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
        data = load_wine(as_frame=True)
        x_train, x_test, y_train, y_test = train_test_split(
            data.data, data.target, test_size=params["test_size"], random_state=params["seed"],
            stratify=data.target,
        )
        keel.log_params({"dataset": "sklearn.datasets.load_wine", "rows": len(data.data)})

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
            {"labels": [str(c) for c in data.target_names],
             "matrix": confusion_matrix(y_test, predictions).tolist()},
            "confusion_matrix.json",
        )
        importances = sorted(
            zip(data.feature_names, model.feature_importances_), key=lambda item: -item[1]
        )
        keel.log_dict({name: round(float(v), 4) for name, v in importances}, "feature_importances.json")
        print(f"max_depth={params['max_depth']}: accuracy={accuracy:.3f} f1_macro={f1:.3f}")


if __name__ == "__main__":
    main()
'''

README_MD = """\
# Keel quickstart project

Made by `keel quickstart`. It trains a random forest on scikit-learn's wine data set
(`src/train.py`, parameters in `params.yaml`) and records every training as a Keel run.

Try:

    keel runs list                      # what was recorded
    keel runs show RUN_ID               # params, metrics, artifacts, context of one run
    keel runs compare RUN_A RUN_B       # what differs between runs
    keel runs history RUN_ID accuracy_by_trees
    keel track --experiment quickstart -- python src/train.py --max-depth 6
"""
