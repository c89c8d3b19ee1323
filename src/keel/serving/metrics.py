"""The scoring server's Prometheus metrics (``GET /metrics``).

With one worker the metrics live in a registry of their own; with ``--workers N`` the server
sets ``PROMETHEUS_MULTIPROC_DIR`` and every worker writes its values there, so ``/metrics`` on
any worker reports all of them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import math
import os
from typing import Any

#: Monitor-run metrics exported as keel_model_performance{metric}.
PERFORMANCE_METRICS = ("accuracy", "f1_macro", "precision_macro", "recall_macro", "mae", "rmse", "r2")
#: Latency buckets (seconds): fine below 10 ms, where single-row requests land.
BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class ServerMetrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess else self.registry
        self.requests = Counter(
            "keel_requests",
            "Requests answered, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "keel_request_latency_seconds",
            "Time to answer a request.",
            ["endpoint"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.rows = Counter(
            "keel_prediction_rows", "Rows predicted, by model version.", ["version"], registry=registry
        )
        self.classes = Counter(
            "keel_predicted_class",
            "Predicted classes (classifiers), by model version.",
            ["version", "label"],
            registry=registry,
        )
        self.values = Histogram(
            "keel_predicted_value",
            "Predicted values (regressors).",
            ["version"],
            buckets=(-1e3, -1e2, -10, -1, 0, 1, 10, 1e2, 1e3, 1e4, 1e6),
            registry=registry,
        )
        self.version = Gauge(
            "keel_model_version",
            "Version of the model being served.",
            registry=registry,
            multiprocess_mode="max",
        )
        # The latest monitor run of this model (keel monitor …), refreshed by the server.
        self.drift_share = Gauge(
            "keel_drift_share",
            "Share of input columns drifted in the latest monitoring evaluation.",
            registry=registry,
            multiprocess_mode="max",
        )
        self.dataset_drift = Gauge(
            "keel_dataset_drift",
            "1 when the latest monitoring evaluation found dataset drift, else 0.",
            registry=registry,
            multiprocess_mode="max",
        )
        self.column_drift = Gauge(
            "keel_column_drift_score",
            "Drift score of each input column in the latest monitoring evaluation.",
            ["column"],
            registry=registry,
            multiprocess_mode="max",
        )
        self.performance = Gauge(
            "keel_model_performance",
            "Performance on labelled traffic in the latest monitoring evaluation.",
            ["metric"],
            registry=registry,
            multiprocess_mode="max",
        )

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def predictions(self, version: int, values: list[Any], label: bool) -> None:
        key = str(version)
        self.rows.labels(key).inc(len(values))
        if label:
            counts: dict[str, int] = {}
            for value in values:
                counts[str(value)] = counts.get(str(value), 0) + 1
            for name, count in counts.items():
                self.classes.labels(key, name).inc(count)
        else:
            histogram = self.values.labels(key)
            for value in values:
                if isinstance(value, int | float) and math.isfinite(value):
                    histogram.observe(float(value))

    def set_monitoring(self, metrics: dict[str, float]) -> None:
        """Gauges from a monitor run's metrics (``drift_share``, ``drift.COLUMN``, ``accuracy``…)."""
        if "drift_share" in metrics:
            self.drift_share.set(metrics["drift_share"])
        if "dataset_drift" in metrics:
            self.dataset_drift.set(metrics["dataset_drift"])
        for key, value in metrics.items():
            if key.startswith("drift."):
                self.column_drift.labels(key[len("drift.") :]).set(value)
            elif key in PERFORMANCE_METRICS:
                self.performance.labels(key).set(value)

    def set_version(self, version: int) -> None:
        self.version.set(version)

    def exposition(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
