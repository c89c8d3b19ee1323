"""One monitoring evaluation: drift, data quality, prediction drift and performance of a
current table (or a model's traffic) against a reference, as one report.

- **Drift** per input column and for the dataset (:mod:`keel.monitor.drift`).
- **Data quality** from the reference sketch alone: the rules of ``keel check compare``
  (:mod:`keel.checks.compare`) at their default limits — a missing or retyped column, a rise
  of the missing rate, numbers outside the reference's range, values in categories the
  reference never had — without its distribution test (drift is tested above).
- **Prediction drift**: the model's predictions in the window against its predictions on
  the reference data (stored in the reference sketch).
- **Performance** over the labelled rows, next to the reference's.

:meth:`MonitorReport.figures` flattens it into the numbers rules test and monitor runs
record (``drift_share``, ``drift.COLUMN``, ``missing_rate.COLUMN``, ``accuracy``…);
:meth:`MonitorReport.to_dict` is the report's JSON, which the HTML report renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from keel.checks.sketch import TableSketch
    from keel.monitor.drift import ColumnDrift, DriftResult
    from keel.monitor.reference import Reference


@dataclass
class MonitorReport:
    title: str
    reference: Reference
    current_label: str
    current_rows: int
    drift: DriftResult
    quality: list[dict[str, Any]] = field(default_factory=list)
    prediction: ColumnDrift | None = None
    performance: dict[str, Any] | None = None
    windows: list[dict[str, Any]] | None = None
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def figures(self) -> dict[str, float]:
        """Every number a rule can test, by name."""
        out: dict[str, float] = {
            "drift_share": float(self.drift.drift_share),
            "dataset_drift": 1.0 if self.drift.dataset_drift else 0.0,
            "drifted_columns": float(sum(1 for c in self.drift.columns if c.drifted)),
            "rows": float(self.current_rows),
        }
        for column in self.drift.columns:
            if column.score is not None and math.isfinite(column.score):
                out[f"drift.{column.column}"] = float(column.score)
            if column.current_missing is not None:
                out[f"missing_rate.{column.column}"] = float(column.current_missing)
        if self.prediction is not None and self.prediction.score is not None:
            out["prediction_drift"] = float(self.prediction.score)
        if self.performance is not None:
            out["labelled"] = float(self.performance["labelled"])
            for name, pair in self.performance["metrics"].items():
                if pair.get("current") is not None:
                    out[name] = float(pair["current"])
        return out

    def to_dict(self) -> dict[str, Any]:
        drift = self.drift
        tested = [c for c in drift.columns if c.counted]
        return {
            "title": self.title,
            "generated_at": self.generated_at,
            "reference": {"label": self.reference.label, "rows": self.reference.sketch.rows},
            "current": {"label": self.current_label, "rows": self.current_rows},
            "dataset_drift": drift.dataset_drift,
            "drift_share": drift.drift_share,
            "share_threshold": drift.share_threshold,
            "drifted_columns": drift.drifted,
            "columns_tested": len(tested),
            "columns": [c.to_dict() for c in drift.columns],
            "quality": self.quality,
            "prediction": self.prediction.to_dict() if self.prediction is not None else None,
            "performance": self.performance,
            "windows": self.windows,
        }


def evaluate(
    reference: Reference,
    current: pd.DataFrame,
    *,
    title: str,
    current_label: str,
    predictions: Any = None,
    labels: Any = None,
    classifier: bool = False,
    tests: dict[str, str] | None = None,
    thresholds: dict[str, float] | None = None,
    share_threshold: float = 0.5,
    columns: list[str] | None = None,
) -> MonitorReport:
    """Evaluate ``current`` (and the model's ``predictions`` and the true ``labels``, when
    given) against ``reference``, on ``columns`` (default: every reference column)."""
    import pandas as pd

    from keel.monitor.drift import detect_drift
    from keel.monitor.performance import performance
    from keel.monitor.reference import PREDICTION

    if len(current) == 0:
        raise InvalidInput(f"{current_label} has no rows to compare; wait for traffic or widen --since.")
    if columns is None:
        columns = [c for c in reference.sketch.columns if c not in (PREDICTION, reference.label_column)]
    unknown = [c for c in columns if c not in reference.sketch.columns]
    if unknown:
        raise InvalidInput(
            f"The reference {reference.label} has no column {unknown[0]!r}; check the model's inputs."
        )
    if not set(columns) & set(map(str, current.columns)):
        raise InvalidInput(
            f"{current_label} shares no column with the reference {reference.label} "
            f"(reference: {', '.join(columns[:8])}); compare data of the same kind."
        )
    drift = detect_drift(
        reference.sketch,
        current,
        columns=columns,
        tests=tests,
        thresholds=thresholds,
        share_threshold=share_threshold,
    )
    report = MonitorReport(title, reference, current_label, len(current), drift)
    report.quality = quality_findings(reference.sketch, current, columns)
    if predictions is not None and PREDICTION in reference.sketch.columns:
        frame = pd.DataFrame({PREDICTION: pd.Series(predictions).reset_index(drop=True)})
        report.prediction = detect_drift(reference.sketch, frame, columns=[PREDICTION]).columns[0]
    if labels is not None and predictions is not None:
        found = performance(labels, predictions, classifier)
        if found is not None:
            known = int(pd.Series(labels).notna().sum())
            metrics = {
                name: {"current": value, "reference": (reference.performance or {}).get(name)}
                for name, value in found.items()
            }
            report.performance = {"labelled": known, "metrics": metrics}
    return report


def quality_findings(
    reference: TableSketch, current: pd.DataFrame, columns: list[str]
) -> list[dict[str, Any]]:
    """The data-quality findings of ``columns`` against the reference sketch, as JSON: the
    rules of ``keel check compare`` at their default limits, without a distribution test."""
    from keel.checks.compare import CompareOptions, compare_to_sketch

    if reference.rows == 0 or len(current) == 0:
        return []  # no values on one side: there is no baseline to hold the other to
    findings = compare_to_sketch(reference, current, options=CompareOptions(columns=columns, tests=()))
    return [finding.to_dict() for finding in findings]
