"""Model performance from predictions and true labels (classification or regression).

Labels arrive late and as text (``POST /feedback``), so both sides are compared as text for
classifiers and as numbers for regressors; rows without a label are left out.
"""

from __future__ import annotations

from typing import Any

CLASSIFICATION = ("accuracy", "f1_macro", "precision_macro", "recall_macro")
REGRESSION = ("mae", "rmse", "r2")


def performance(labels: Any, predictions: Any, classifier: bool) -> dict[str, float] | None:
    """Metrics over the labelled rows, or None when there are none."""
    import numpy as np
    import pandas as pd

    truth = pd.Series(labels).reset_index(drop=True)
    guess = pd.Series(predictions).reset_index(drop=True)
    known = truth.notna().to_numpy() & guess.notna().to_numpy()
    if not known.any():
        return None
    truth, guess = truth[known], guess[known]
    from sklearn import metrics

    if classifier:
        y, p = truth.astype(str).to_numpy(), guess.astype(str).to_numpy()
        return {
            "accuracy": float(metrics.accuracy_score(y, p)),
            "f1_macro": float(metrics.f1_score(y, p, average="macro", zero_division=0)),
            "precision_macro": float(metrics.precision_score(y, p, average="macro", zero_division=0)),
            "recall_macro": float(metrics.recall_score(y, p, average="macro", zero_division=0)),
        }
    y_num = pd.to_numeric(truth, errors="coerce").to_numpy(dtype=float)
    p_num = pd.to_numeric(guess, errors="coerce").to_numpy(dtype=float)
    both = np.isfinite(y_num) & np.isfinite(p_num)
    if not both.any():
        return None
    y_num, p_num = y_num[both], p_num[both]
    out = {
        "mae": float(metrics.mean_absolute_error(y_num, p_num)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y_num, p_num))),
    }
    if len(y_num) > 1:
        out["r2"] = float(metrics.r2_score(y_num, p_num))
    return out
