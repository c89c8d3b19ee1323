"""The prediction log: every served prediction, appended off the request path to Parquet.

Layout under ``predictions_dir`` (``.keel/predictions`` by default)::

    NAME/predictions/date=2026-11-29/20261129T154501.123456-4711-000001.parquet
    NAME/feedback/date=2026-11-29/….parquet

A request handler only appends rows to an in-memory buffer (a lock and a list append); a
background thread writes a segment when the buffer holds ``max_rows`` rows or every
``flush_seconds``, and :meth:`PredictionLog.close` writes what is left (the server calls it
after draining in-flight requests on SIGTERM). A segment is written to a temporary name and
renamed, so readers never see a partial file.

Prediction rows: ``request_id``, ``timestamp`` (UTC), ``model``, ``version``, one ``in.COLUMN``
per input column, ``prediction``, and ``proba.CLASS`` for classifiers. Feedback rows:
``request_id``, ``timestamp``, ``label``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput

PREDICTIONS = "predictions"
FEEDBACK = "feedback"


class SegmentWriter:
    """Buffered rows of one kind, written as Parquet segments by a background thread."""

    def __init__(self, folder: Path, max_rows: int, flush_seconds: float) -> None:
        self.folder = folder
        self.max_rows = max(1, max_rows)
        self.flush_seconds = max(0.05, flush_seconds)
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._seq = 0
        self.written = 0
        self.error: str | None = None
        self._thread = threading.Thread(target=self._loop, name=f"keel-log-{folder.name}", daemon=True)
        self._thread.start()

    def append(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            self._rows.extend(rows)
            full = len(self._rows) >= self.max_rows
        if full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one segment (no-op when empty)."""
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            try:
                self._write(rows)
            except Exception as exc:  # noqa: BLE001 - keep the rows and report; the server keeps serving
                self.error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    self._rows[:0] = rows

    def _write(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        moment = datetime.now(UTC)
        folder = self.folder / f"date={moment:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        name = f"{moment:%Y%m%dT%H%M%S.%f}-{os.getpid()}-{self._seq:06d}.parquet"
        table = pa.Table.from_pylist(_uniform(rows))
        tmp = folder / f".{name}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, folder / name)
        self.written += len(rows)

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()


def _uniform(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with every key (missing ones None), so the segment has one schema."""
    keys: dict[str, None] = {}
    for row in rows:
        for key in row:
            keys.setdefault(key, None)
    return [{k: row.get(k) for k in keys} for row in rows]


class PredictionLog:
    """The prediction and feedback logs of one served model."""

    def __init__(self, root: Path, model: str, max_rows: int = 10_000, flush_seconds: float = 5.0) -> None:
        self.root = root / model
        self.predictions = SegmentWriter(self.root / PREDICTIONS, max_rows, flush_seconds)
        self.feedback = SegmentWriter(self.root / FEEDBACK, max_rows, flush_seconds)

    def close(self) -> None:
        self.predictions.close()
        self.feedback.close()


# -- reading ---------------------------------------------------------------------------------------


def parse_since(text: str | None) -> datetime | None:
    """``24h``, ``30m``, ``7d``, ``90s`` or an ISO date/time → the moment it names (UTC)."""
    from keel.core.durations import is_duration, parse_duration

    if not text:
        return None
    value = text.strip()
    if is_duration(value):
        return datetime.fromtimestamp(time.time() - parse_duration(value, "--since"), UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"--since {text!r} is not a duration or a date; use e.g. 24h, 30m, 7d or 2026-11-29T08:00."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_log(root: Path, model: str, kind: str = PREDICTIONS, since: datetime | None = None) -> Any:
    """Every row of a model's log as a DataFrame (oldest first), optionally since a moment."""
    import pandas as pd
    import pyarrow.parquet as pq

    folder = root / model / kind
    files = sorted(p for p in folder.glob("date=*/*.parquet")) if folder.is_dir() else []
    if since is not None:
        day = f"date={since:%Y-%m-%d}"
        files = [f for f in files if f.parent.name >= day]
    frames = [pq.read_table(f).to_pandas() for f in files]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True, sort=False)
    if since is not None and "timestamp" in frame:
        frame = frame[frame["timestamp"] >= pd.Timestamp(since)]
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def logged_models(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
