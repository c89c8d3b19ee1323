"""What a served model saw: its prediction log as features, predictions and (late) labels.

The scoring server logs ``in.COLUMN`` inputs, the ``prediction`` (class labels as text for
classifiers, numbers for regressors) and ``proba.CLASS`` per request; ``POST /feedback``
adds labels keyed by request id. Monitoring reads them back here, for one model (and
optionally one version), since a moment, and cuts them into time windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from keel.core.errors import NotFound

if TYPE_CHECKING:
    import pandas as pd

    from keel.core.workspace import Workspace

INPUT_PREFIX = "in."


@dataclass
class Traffic:
    features: pd.DataFrame  # one column per model input
    predictions: pd.Series
    labels: pd.Series  # the feedback label per row (missing where none arrived), as text
    timestamps: pd.Series
    versions: list[int]

    @property
    def rows(self) -> int:
        return len(self.features)

    def window(self, mask: Any) -> Traffic:
        return Traffic(
            self.features[mask].reset_index(drop=True),
            self.predictions[mask].reset_index(drop=True),
            self.labels[mask].reset_index(drop=True),
            self.timestamps[mask].reset_index(drop=True),
            self.versions,
        )


def load_traffic(
    workspace: Workspace, model: str, since: datetime | None = None, version: int | None = None
) -> Traffic:
    """The model's logged requests since ``since`` (all when None), with their feedback labels."""
    from keel.serving.prediction_log import FEEDBACK, logged_models, read_log

    root = workspace.predictions_dir
    if model not in logged_models(root):
        known = ", ".join(logged_models(root)) or "none yet"
        raise NotFound(
            f"No prediction log for model {model!r} in {root} (logged: {known}); serve it with "
            f"`keel serve {model}@ALIAS` and send it requests first."
        )
    frame = read_log(root, model, since=since)
    if version is not None and len(frame):
        frame = frame[frame["version"] == version].reset_index(drop=True)
    feedback = read_log(root, model, FEEDBACK)
    return _traffic(frame, feedback)


def _traffic(frame: pd.DataFrame, feedback: pd.DataFrame) -> Traffic:
    import pandas as pd

    inputs = [c for c in frame.columns if str(c).startswith(INPUT_PREFIX)]
    features = (
        frame[inputs].rename(columns=lambda c: str(c)[len(INPUT_PREFIX) :]) if inputs else pd.DataFrame()
    )
    predictions = frame["prediction"] if "prediction" in frame else pd.Series([], dtype=object)
    labels = pd.Series([None] * len(frame), dtype=object)
    if len(frame) and len(feedback):
        last = feedback.drop_duplicates("request_id", keep="last").set_index("request_id")["label"]
        labels = frame["request_id"].map(last)
    timestamps = frame["timestamp"] if "timestamp" in frame else pd.Series([], dtype="datetime64[ns, UTC]")
    versions = sorted(int(v) for v in frame["version"].unique()) if "version" in frame else []
    return Traffic(
        features, predictions.reset_index(drop=True), labels.reset_index(drop=True), timestamps, versions
    )


def windows(traffic: Traffic, seconds: float) -> list[tuple[datetime, datetime, Traffic]]:
    """``traffic`` cut into consecutive windows of ``seconds`` (empty windows left out)."""
    import pandas as pd

    if traffic.rows == 0:
        return []
    stamps = pd.to_datetime(traffic.timestamps, utc=True)
    start = stamps.min().floor("s")
    step = pd.Timedelta(seconds=seconds)
    index = ((stamps - start) // step).to_numpy()
    out = []
    for number in sorted(set(index.tolist())):
        mask = index == number
        begin = start + number * step
        out.append((begin.to_pydatetime(), (begin + step).to_pydatetime(), traffic.window(mask)))
    return out
