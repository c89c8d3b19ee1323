"""The metrics model checks can name, computed with scikit-learn, and the dummy baselines.

Each metric knows whether higher is better (thresholds and regressions read it) and whether
it needs class probabilities. Binary precision, recall and f1 treat the last class (in
sorted order, e.g. 1 or "yes") as the positive one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    name: str
    task: str  # "classification" or "regression"
    higher_is_better: bool
    needs_proba: bool
    compute: Callable[[Any, Any, Any, Any], float]  # (y_true, y_pred, proba, classes)


def _sk(name: str) -> Any:
    import sklearn.metrics

    return getattr(sklearn.metrics, name)


def _averaged(function: str, average: str) -> Callable[[Any, Any, Any, Any], float]:
    return lambda y, p, proba, classes: float(_sk(function)(y, p, average=average, zero_division=0))


def _binary(function: str) -> Callable[[Any, Any, Any, Any], float]:
    def compute(y: Any, p: Any, proba: Any, classes: Any) -> float:
        positive = sorted(classes)[-1]
        return float(_sk(function)(y, p, average="binary", pos_label=positive, zero_division=0))

    return compute


def _roc_auc(y: Any, p: Any, proba: Any, classes: Any) -> float:
    if len(classes) == 2:
        return float(_sk("roc_auc_score")(y, proba[:, 1]))
    return float(_sk("roc_auc_score")(y, proba, multi_class="ovr", labels=list(classes)))


def _log_loss(y: Any, p: Any, proba: Any, classes: Any) -> float:
    return float(_sk("log_loss")(y, proba, labels=list(classes)))


def _rmse(y: Any, p: Any, proba: Any, classes: Any) -> float:
    return float(_sk("root_mean_squared_error")(y, p))


def _simple(function: str) -> Callable[[Any, Any, Any, Any], float]:
    return lambda y, p, proba, classes: float(_sk(function)(y, p))


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", "classification", True, False, _simple("accuracy_score")),
        Metric("balanced_accuracy", "classification", True, False, _simple("balanced_accuracy_score")),
        Metric("f1_macro", "classification", True, False, _averaged("f1_score", "macro")),
        Metric("f1_weighted", "classification", True, False, _averaged("f1_score", "weighted")),
        Metric("precision_macro", "classification", True, False, _averaged("precision_score", "macro")),
        Metric("recall_macro", "classification", True, False, _averaged("recall_score", "macro")),
        Metric("f1", "classification", True, False, _binary("f1_score")),
        Metric("precision", "classification", True, False, _binary("precision_score")),
        Metric("recall", "classification", True, False, _binary("recall_score")),
        Metric("roc_auc", "classification", True, True, _roc_auc),
        Metric("log_loss", "classification", False, True, _log_loss),
        Metric("rmse", "regression", False, False, _rmse),
        Metric("mae", "regression", False, False, _simple("mean_absolute_error")),
        Metric("r2", "regression", True, False, _simple("r2_score")),
        Metric("mape", "regression", False, False, _simple("mean_absolute_percentage_error")),
    )
}

#: Dummy models a baseline check compares against (scikit-learn's DummyClassifier/DummyRegressor
#: strategies), fitted on the evaluation data's labels: the best constant guess for that data.
BASELINES = ("most_frequent", "prior", "stratified", "uniform", "mean", "median")
CLASSIFIER_BASELINES = ("most_frequent", "prior", "stratified", "uniform")


def better(metric: Metric, value: float, reference: float, margin: float = 0.0) -> bool:
    """Whether ``value`` beats ``reference`` by more than ``margin`` in the metric's direction."""
    if metric.higher_is_better:
        return value > reference + margin
    return value < reference - margin


def no_worse(metric: Metric, value: float, reference: float, tolerance: float) -> bool:
    if metric.higher_is_better:
        return value >= reference - tolerance
    return value <= reference + tolerance
