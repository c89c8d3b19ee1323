"""Monitoring from the CLI and Python: evaluate a model's traffic or two tables, record it.

Every evaluation is a run of kind ``monitor`` in the ``monitoring`` experiment: params say
what was compared, metrics hold :meth:`MonitorReport.figures` (so drift share and
per-column scores chart over time), and the report is kept as ``monitor-report.json`` (and
``monitor-report.html`` when one was written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    from keel.core.models import ModelVersion
    from keel.core.workspace import Workspace
    from keel.monitor.evaluate import MonitorReport
    from keel.tracking.session import Session

MONITOR_EXPERIMENT = "monitoring"
_BAD_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-./: ]")


@dataclass
class DriftOptions:
    tests: dict[str, str] | None = None
    thresholds: dict[str, float] | None = None
    share_threshold: float = 0.5
    #: column kinds overriding the inferred ones (numeric, categorical, boolean, datetime, text)
    kinds: dict[str, str] | None = None


def monitor_model(
    workspace: Workspace,
    ref: str,
    *,
    since: str = "24h",
    window: str | None = None,
    reference: str | None = None,
    options: DriftOptions | None = None,
    session: Session | None = None,
) -> tuple[MonitorReport, ModelVersion]:
    """Evaluate the prediction log of model ``ref`` (``NAME@ALIAS``) over the last ``since``."""
    from keel.core.durations import parse_duration
    from keel.core.models import parse_model_ref
    from keel.models.registry import get_model_version, load_package
    from keel.monitor.evaluate import evaluate
    from keel.monitor.reference import file_reference, model_reference
    from keel.monitor.traffic import load_traffic, windows
    from keel.serving.prediction_log import parse_since
    from keel.tracking.session import session_for_workspace

    options = options or DriftOptions()
    session = session or session_for_workspace(workspace)
    version = get_model_version(parse_model_ref(ref), session=session)
    model = load_package(session, version)
    base = (
        file_reference(workspace, session, reference, options.kinds)
        if reference
        else model_reference(session, version, model, options.kinds)
    )
    traffic = load_traffic(workspace, version.name, parse_since(since))
    if traffic.rows == 0:
        raise InvalidInput(
            f"No predictions of {version.name} in the last {since}; widen --since, or send the server requests."
        )
    if traffic.features.shape[1] == 0:
        raise InvalidInput(
            f"The prediction log of {version.name} holds no inputs (served with --no-log inputs?)."
        )
    versions = ", ".join(map(str, traffic.versions))
    label = (
        f"{traffic.rows:,} predictions of {version.name} "
        f"(version{'s' if len(traffic.versions) != 1 else ''} {versions}), last {since}"
    )
    report = evaluate(
        base,
        traffic.features,
        title=f"Monitoring {ref}: the last {since}",
        current_label=label,
        predictions=traffic.predictions,
        labels=traffic.labels,
        classifier=model.is_classifier,
        tests=options.tests,
        thresholds=options.thresholds,
        share_threshold=options.share_threshold,
        columns=model.signature.names if model.signature is not None else None,
    )
    if window:
        from keel.monitor.drift import detect_drift

        seconds = parse_duration(window, "--window")
        columns = [c for c in base.sketch.columns if c in set(traffic.features.columns)]
        report.windows = []
        for start, end, part in windows(traffic, seconds):
            result = detect_drift(
                base.sketch,
                part.features,
                columns=columns,
                tests=options.tests,
                thresholds=options.thresholds,
                share_threshold=options.share_threshold,
            )
            report.windows.append(
                {
                    "start": start.isoformat(timespec="seconds"),
                    "end": end.isoformat(timespec="seconds"),
                    "rows": part.rows,
                    "drift_share": result.drift_share,
                    "dataset_drift": result.dataset_drift,
                }
            )
    return report, version


def monitor_tables(
    workspace: Workspace,
    reference: str,
    current: Path,
    *,
    options: DriftOptions | None = None,
    session: Session | None = None,
) -> MonitorReport:
    """Evaluate the table at ``current`` against ``reference`` (a path or ``PATH@REV``)."""
    from keel.checks.data_api import read_data, subject_label
    from keel.monitor.evaluate import evaluate
    from keel.monitor.reference import file_reference
    from keel.tracking.session import session_for_workspace

    options = options or DriftOptions()
    session = session or session_for_workspace(workspace)
    base = file_reference(workspace, session, reference, options.kinds)
    if not current.exists():
        raise InvalidInput(f"Current data {current} does not exist; give a data file or folder.")
    frame = read_data(current)
    label = subject_label(current, workspace)
    return evaluate(
        base,
        frame,
        title=f"Drift: {label} against {reference}",
        current_label=f"{label} ({len(frame):,} rows)",
        tests=options.tests,
        thresholds=options.thresholds,
        share_threshold=options.share_threshold,
    )


def metric_key(name: str) -> str:
    """A figure's name as a metric key (characters keys do not allow become ``_``)."""
    key = _BAD_KEY_CHARS.sub("_", name).strip()
    return key[:250] or "_"


def record_monitor(
    workspace: Workspace,
    report: MonitorReport,
    *,
    params: dict[str, Any],
    tags: dict[str, Any] | None = None,
    html: Path | None = None,
    session: Session | None = None,
) -> str:
    """Record ``report`` as a monitor run; return its id."""
    import math

    from keel.core.entities import RunStatus
    from keel.tracking.recorder import open_run
    from keel.tracking.session import session_for_workspace

    session = session or session_for_workspace(workspace)
    run = open_run(
        session,
        experiment=MONITOR_EXPERIMENT,
        name=f"monitor {params.get('monitor.model') or params.get('monitor.current') or ''}".strip(),
        params=params,
        tags={"keel.monitor.dataset_drift": report.drift.dataset_drift, **(tags or {})},
        kind="monitor",
    )
    metrics: dict[str, float] = {}
    for name, value in report.figures().items():
        if math.isfinite(value):
            metrics[metric_key(name)] = value
    run.log_metrics(metrics)
    run.log_dict(report.to_dict(), "monitor-report.json")
    if html is not None and html.is_file():
        run.log_artifact(html, "monitor-report.html")
    run.end(RunStatus.FINISHED.value)
    session.flush()
    return run.id
