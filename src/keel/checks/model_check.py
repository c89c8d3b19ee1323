"""Evaluating a model version against a :class:`~keel.checks.model_spec.ModelSpec`.

The model predicts the evaluation data once (and once more per slice, perturbation, case
and comparison model); each check becomes a rule result whose ``value`` is what it
measured. A spec that cannot be evaluated on this data (an unknown column in ``where``, a
perturbed column that is not numeric) is a ConfigError naming the spec's line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.checks.metrics import CLASSIFIER_BASELINES, METRICS, Metric, better, no_worse
from keel.checks.model_spec import ModelCheck, ModelSpec
from keel.checks.results import CheckReport, RuleResult
from keel.core.errors import ConfigError, InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from keel.core.models import ModelVersion
    from keel.core.workspace import Workspace
    from keel.models.model import KeelModel
    from keel.tracking.session import Session

#: Regressors: a prediction "changed" under perturbation when it moved by more than this share.
REGRESSION_CHANGE = 0.01


@dataclass
class _Scored:
    """A model's predictions on a frame, and the truth."""

    truth: Any
    predicted: Any
    proba: Any
    classes: Any
    classifier: bool = True


def evaluate_spec(
    spec: ModelSpec, model: KeelModel, version: ModelVersion, frame: pd.DataFrame, session: Session
) -> CheckReport:
    started = time.perf_counter()
    report = CheckReport("model", spec.source, version.ref, version.package_oid)
    if spec.label not in frame.columns:
        raise InvalidInput(
            f"The evaluation data {spec.data} has no label column {spec.label!r} (columns: "
            f"{', '.join(map(str, frame.columns[:20]))}); set 'label:' in {spec.source}."
        )
    if frame.empty:
        raise InvalidInput(f"The evaluation data {spec.data} has no rows.")
    features = _features(frame, spec, model)
    scored = _score(model, features, frame[spec.label])
    report.measured["rows"] = float(len(frame))
    for check in spec.checks:
        result = _run(check, spec, model, version, frame, features, scored, session, report)
        report.results.append(result)
    report.duration = time.perf_counter() - started
    return report


def _features(frame: pd.DataFrame, spec: ModelSpec, model: KeelModel) -> pd.DataFrame:
    if model.signature is not None:
        missing = [c for c in model.signature.names if c not in frame.columns]
        if missing:
            raise InvalidInput(
                f"The evaluation data {spec.data} lacks the model's input column(s) {', '.join(missing[:5])}."
            )
        return frame[model.signature.names]
    return frame.drop(columns=[spec.label])


def _score(model: KeelModel, features: pd.DataFrame, truth: Any) -> _Scored:
    import numpy as np

    predicted = np.asarray(model.predict(features))
    proba = np.asarray(model.predict_proba(features)) if model.is_classifier else None
    classes = getattr(model.raw, "classes_", None)
    if classes is None:
        classes = np.unique(np.asarray(truth))
    signature = model.signature
    classifier = model.is_classifier or (signature is not None and signature.output == "label")
    return _Scored(np.asarray(truth), predicted, proba, np.asarray(classes), classifier)


class _Undefined(Exception):
    """A metric with no value on this data (e.g. ROC AUC on a slice holding one class)."""


def _metric_value(metric: Metric, scored: _Scored, where: str) -> float:
    import math
    import warnings

    kind = "classification" if scored.classifier else "regression"
    if metric.task != kind:
        examples = "accuracy, f1_macro, roc_auc" if scored.classifier else "rmse, mae, r2"
        raise ConfigError(
            f"{where}: {metric.name} is a {metric.task} metric and this model does {kind}; use e.g. {examples}."
        )
    if metric.needs_proba and scored.proba is None:
        raise ConfigError(
            f"{where}: {metric.name} needs class probabilities; this model has no predict_proba."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = metric.compute(scored.truth, scored.predicted, scored.proba, scored.classes)
    except (ValueError, TypeError) as exc:
        raise _Undefined(
            f"{metric.name} cannot be computed on this data: {str(exc).splitlines()[0]}"
        ) from None
    if not math.isfinite(value):
        raise _Undefined(f"{metric.name} is undefined on this data (does it hold every class?)")
    return value


def _bounds_ok(value: float, options: dict[str, Any]) -> bool:
    low, high = options.get("min"), options.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def _run(
    check: ModelCheck,
    spec: ModelSpec,
    model: KeelModel,
    version: ModelVersion,
    frame: pd.DataFrame,
    features: pd.DataFrame,
    scored: _Scored,
    session: Session,
    report: CheckReport,
) -> RuleResult:

    def result(passed: bool, message: str, value: float | None = None, **extra: Any) -> RuleResult:
        return RuleResult(
            check.kind,
            passed,
            f"{check.name}: {message}",
            None,
            severity=check.severity,
            value=value,
            label=check.name,
            **extra,
        )

    try:
        return _evaluate_check(check, spec, model, version, frame, features, scored, session, report, result)
    except _Undefined as exc:
        return result(False, str(exc))


def _evaluate_check(
    check: ModelCheck,
    spec: ModelSpec,
    model: KeelModel,
    version: ModelVersion,
    frame: pd.DataFrame,
    features: pd.DataFrame,
    scored: _Scored,
    session: Session,
    report: CheckReport,
    result: Callable[..., RuleResult],
) -> RuleResult:
    options = check.options

    if check.kind in ("metric", "baseline", "against", "where"):
        metric = METRICS[options["metric"]]
    if check.kind == "metric":
        value = _metric_value(metric, scored, check.where)
        report.measured[metric.name] = value
        return result(_bounds_ok(value, options), f"{metric.name} = {value:.4g}", value)
    if check.kind == "baseline":
        value = _metric_value(metric, scored, check.where)
        dummy = _baseline(options["baseline"], features, scored, check.where)
        reference = _metric_value(metric, dummy, check.where)
        margin = float(options.get("margin", 0.0))
        report.measured[f"baseline.{metric.name}"] = reference
        ok = better(metric, value, reference, margin)
        return result(
            ok,
            f"{metric.name} = {value:.4g} vs {reference:.4g} for the {options['baseline']} baseline",
            value,
        )
    if check.kind == "against":
        return _against(check, metric, spec, version, frame, scored, session, report, result)
    if check.kind == "where":
        mask = _slice(frame, options["where"], check.where, spec.data)
        count = int(mask.sum())
        if count == 0:
            return result(False, f"the slice {options['where']!r} matches no rows of {spec.data}")
        part = _Scored(
            scored.truth[mask],
            scored.predicted[mask],
            None if scored.proba is None else scored.proba[mask],
            scored.classes,
        )
        value = _metric_value(metric, part, check.where)
        return result(
            _bounds_ok(value, options), f"{metric.name} = {value:.4g} on {count:,} rows", value, total=count
        )
    if check.kind == "perturb":
        changed, total = _perturb(model, features, scored, options, check.where)
        limit = float(options.get("max_changed", 0.05))
        share = changed / total
        return result(
            share <= limit + 1e-12,
            f"{changed:,} of {total:,} predictions ({share:.2%}) changed; at most {limit:.2%} may",
            share,
            failing=changed,
            total=total,
        )
    # cases
    return _cases(check, model, result)


def _baseline(strategy: str, features: pd.DataFrame, scored: _Scored, where: str) -> _Scored:
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    blank = np.zeros((len(features), 1))
    if scored.proba is not None or strategy in CLASSIFIER_BASELINES:
        if strategy not in CLASSIFIER_BASELINES:
            raise ConfigError(
                f"{where}: baseline {strategy!r} is for regressors; use one of {', '.join(CLASSIFIER_BASELINES)}."
            )
        dummy = DummyClassifier(strategy=strategy, random_state=0).fit(blank, scored.truth)
        proba = dummy.predict_proba(blank)
        # align the dummy's classes with the model's, for probability metrics
        aligned = np.zeros((len(features), len(scored.classes)))
        for index, cls in enumerate(dummy.classes_):
            matches = np.flatnonzero(scored.classes == cls)
            if len(matches):
                aligned[:, matches[0]] = proba[:, index]
        return _Scored(scored.truth, dummy.predict(blank), aligned, scored.classes)
    regressor = DummyRegressor(strategy=strategy).fit(blank, scored.truth)
    return _Scored(scored.truth, regressor.predict(blank), None, scored.classes)


def _against(
    check: ModelCheck,
    metric: Metric,
    spec: ModelSpec,
    version: ModelVersion,
    frame: pd.DataFrame,
    scored: _Scored,
    session: Session,
    report: CheckReport,
    result: Callable[..., RuleResult],
) -> RuleResult:
    from keel.core.errors import NotFound
    from keel.core.models import ModelRef
    from keel.models.registry import get_model_version, load_package

    alias = check.options["against"]
    value = _metric_value(metric, scored, check.where)
    try:
        other = get_model_version(ModelRef(version.name, alias=alias), session=session)
    except NotFound:
        return result(True, f"no version of {version.name} is {alias} yet: nothing to regress against", value)
    if other.version == version.version:
        return result(True, f"{version.ref} is itself {alias}", value)
    reference_model = load_package(session, other)
    try:  # the version holding the alias may take other inputs: give it its own
        theirs = _score(reference_model, _features(frame, spec, reference_model), scored.truth)
    except InvalidInput as exc:
        raise ConfigError(
            f"{check.where}: {other.ref} (@{alias}) cannot be scored on {spec.data}: {exc.message}"
        ) from None
    reference = _metric_value(metric, theirs, check.where)
    tolerance = float(check.options.get("tolerance", 0.0))
    report.measured[f"{alias}.{metric.name}"] = reference
    ok = no_worse(metric, value, reference, tolerance)
    return result(
        ok,
        f"{metric.name} = {value:.4g} vs {reference:.4g} for {other.ref} (@{alias}), tolerance {tolerance:g}",
        value,
    )


def _slice(frame: pd.DataFrame, condition: str, where: str, data: str) -> np.ndarray:
    import numpy as np

    try:
        selected = frame.eval(condition, engine="python")
    except Exception as exc:  # noqa: BLE001 - pandas raises many kinds for a bad expression
        raise ConfigError(
            f"{where}: the condition {condition!r} cannot be evaluated on {data}: {exc}"
        ) from None
    mask = np.asarray(selected)
    if mask.dtype != bool or mask.shape != (len(frame),):
        raise ConfigError(
            f'{where}: the condition {condition!r} is not true/false per row (e.g. "age < 30").'
        )
    return mask


def _perturb(
    model: KeelModel, features: pd.DataFrame, scored: _Scored, options: dict[str, Any], where: str
) -> tuple[int, int]:
    import numpy as np
    import pandas as pd

    column = options["perturb"]["column"]
    if column not in features.columns:
        raise ConfigError(f"{where}: the model has no input column {column!r} to perturb.")
    values = pd.to_numeric(features[column], errors="coerce")
    dtype = features[column].dtype
    if values.isna().all() or not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        raise ConfigError(
            f"{where}: column {column!r} is not numeric; only numeric columns can be perturbed."
        )
    rng = np.random.default_rng(int(options.get("seed", 0)))
    spread = float(values.std()) or 1.0
    noisy = features.copy()
    moved = values.to_numpy(dtype=float) + rng.normal(
        0.0, float(options["perturb"].get("noise", 0.01)) * spread, len(values)
    )
    integer = model.signature is not None and any(
        c.name == column and c.type == "integer" for c in model.signature.inputs
    )
    noisy[column] = np.round(moved).astype("int64") if integer else moved
    try:
        predicted = np.asarray(model.predict(noisy))
    except InvalidInput as exc:
        raise ConfigError(
            f"{where}: column {column!r} cannot be perturbed for this model: {exc.message}"
        ) from None
    if scored.proba is not None or predicted.dtype.kind not in "fc":
        changed = int((predicted != scored.predicted).sum())
    else:
        base = np.asarray(scored.predicted, dtype=float)
        scale = np.maximum(np.abs(base), 1e-12)
        changed = int((np.abs(predicted - base) / scale > REGRESSION_CHANGE).sum())
    return changed, len(predicted)


def _cases(check: ModelCheck, model: KeelModel, result: Callable[..., RuleResult]) -> RuleResult:
    import numpy as np

    cases = check.options["cases"]
    tolerance = float(check.options.get("tolerance", 0.0))
    try:
        predicted = np.asarray(model.predict([case["input"] for case in cases])).tolist()
    except InvalidInput as exc:
        raise ConfigError(f"{check.where}: a case's input does not fit the model: {exc.message}") from None
    wrong = []
    for index, (case, got) in enumerate(zip(cases, predicted, strict=True)):
        expected = case["expect"]
        if isinstance(got, float) and isinstance(expected, int | float) and not isinstance(expected, bool):
            ok = abs(got - expected) <= tolerance
        else:
            ok = str(got) == str(expected)
        if not ok:
            wrong.append({"row": index, "value": got, "expected": expected})
    return result(
        not wrong,
        f"{len(cases) - len(wrong)} of {len(cases)} cases as expected",
        failing=len(wrong),
        total=len(cases),
        samples=wrong[:5],
    )


def check_model(
    ref: str,
    spec_path: str | Path,
    *,
    record: bool = True,
    parent_id: str | None = None,
    experiment: str | None = None,
    workspace: Workspace | None = None,
) -> CheckReport:
    """Run the checks of ``spec_path`` on model version ``ref`` (``name/3``, ``name@alias``),
    in ``workspace`` (by default the project around the current folder)."""
    from keel.checks.data_api import data_version, find_workspace, read_data
    from keel.checks.model_spec import load_model_spec
    from keel.checks.record import SpecFile, record_report
    from keel.core.models import parse_model_ref
    from keel.models.registry import get_model_version, load_package
    from keel.tracking.session import session_for_workspace

    workspace = workspace or find_workspace()
    if workspace is None:
        raise InvalidInput("Model checks run inside a Keel project (cd into one, or keel init).")
    path = Path(spec_path)
    spec = load_model_spec(path)
    session = session_for_workspace(workspace)
    version = get_model_version(parse_model_ref(ref), session=session)
    if spec.model is not None and spec.model != version.name:
        raise InvalidInput(
            f"{path} checks model {spec.model!r}, not {version.name!r}; give a version of {spec.model}."
        )
    data_path = workspace.root / spec.data
    frame = read_data(data_path)
    model = load_package(session, version)
    report = evaluate_spec(spec, model, version, frame, session)
    spec_file = SpecFile.of(path, workspace.root)
    report.spec = spec_file.label
    if record:
        dataset = data_version(workspace, data_path)
        record_report(
            workspace,
            report,
            spec_file,
            dataset=dataset,
            tags={"keel.model": version.ref},
            parent_id=parent_id,
            experiment=experiment,
            session=session,
        )
    return report
