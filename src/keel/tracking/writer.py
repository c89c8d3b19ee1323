"""The background writer: buffered tracking writes, committed in batches.

Logging calls only validate and append to an in-memory batch; a daemon thread writes the
batch in one transaction every ``flush_interval`` seconds, or sooner when it holds
``flush_max_items`` items. ``flush()`` writes synchronously and is what makes data durable.

Nothing is dropped silently: a failed write keeps its batch for the next attempt and stores
the error, which the next logging call, ``flush()`` or the run's end raises.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from keel.core.errors import Conflict, IntegrityError, KeelError
from keel.store.write_batch import MetricRow, ParamRow, WriteBatch, apply_batch

if TYPE_CHECKING:
    from keel.store.database import Database


#: Seconds between SQLite checkpoints while writes keep coming.
CHECKPOINT_EVERY = 1.0


class Writer:
    """One per process and metadata store; safe to use from any thread."""

    def __init__(self, db: Database, interval: float, max_items: int) -> None:
        self.db = db
        self.interval = interval
        self.max_items = max(1, max_items)
        self._lock = threading.Lock()  # guards _batch and _size
        self._write_lock = threading.Lock()  # one write at a time, in order
        self._batch = WriteBatch()
        self._size = 0
        self._failed: WriteBatch | None = None
        self.error: KeelError | None = None
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._commits = 0  # since the last checkpoint
        self._last_checkpoint = time.monotonic()

    # -- producers (hot path) -------------------------------------------------------------

    def add_metric(self, row: MetricRow) -> None:
        if self.error is not None:
            self.raise_error()
        with self._lock:
            self._batch.metrics.append(row)
            self._size += 1
            size = self._size
        if self._thread is None:
            self._start()
        if size >= self.max_items:
            self._wake.set()

    def add(
        self,
        *,
        runs: list[dict[str, Any]] | None = None,
        params: list[ParamRow] | None = None,
        tags: list[tuple[str, str, str]] | None = None,
        metrics: list[MetricRow] | None = None,
        artifacts: list[tuple[str, str, str, int]] | None = None,
        ends: list[tuple[str, str, float]] | None = None,
        datasets: list[tuple[Any, ...]] | None = None,
    ) -> None:
        """Queue several kinds of rows at once; they reach the store in the same transaction."""
        if self.error is not None:
            self.raise_error()
        with self._lock:
            batch = self._batch
            if runs:
                batch.runs.extend(runs)
            if params:
                batch.params.extend(params)
            if tags:
                batch.tags.extend(tags)
            if metrics:
                batch.metrics.extend(metrics)
            if artifacts:
                batch.artifacts.extend(artifacts)
            if ends:
                batch.ends.extend(ends)
            if datasets:
                batch.datasets.extend(datasets)
            self._size = len(batch)
            size = self._size
        if self._thread is None:
            self._start()
        if size >= self.max_items:
            self._wake.set()

    # -- writing ------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Items buffered or awaiting a retry."""
        failed = len(self._failed) if self._failed is not None else 0
        return self._size + failed

    def flush(self) -> None:
        """Write everything buffered now; raise the first error since the last raise."""
        self._write()
        if self.error is not None:
            self.raise_error()

    def raise_error(self) -> None:
        error, self.error = self.error, None
        if error is not None:
            raise error

    def _write(self) -> None:
        with self._write_lock:
            with self._lock:
                batch, self._batch, self._size = self._batch, WriteBatch(), 0
            if self._failed is not None:
                self._failed.extend(batch)
                batch, self._failed = self._failed, None
            if not len(batch):
                return
            try:
                with self.db.raw_write() as (cursor, paramstyle):
                    conflicts = apply_batch(cursor, paramstyle, batch)
            except KeelError as exc:
                self._failed = batch
                self.error = exc
                return
            except Exception as exc:  # noqa: BLE001 - translated at the seam, never a raw driver error
                self._failed = batch
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                self.error = IntegrityError(
                    f"Could not write {len(batch)} tracking records to {self.db.label}: {first}; "
                    "they are kept and retried on the next flush."
                )
                return
            self._commits += 1
            if conflicts:
                more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
                self.error = Conflict(conflicts[0].message + more)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closed:
                return
            self._thread = threading.Thread(target=self._loop, name="keel-writer", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closed:
                break
            self._write()
            self._maybe_checkpoint()

    def _maybe_checkpoint(self, force: bool = False) -> None:
        if not self._commits:
            return
        if force or time.monotonic() - self._last_checkpoint >= CHECKPOINT_EVERY:
            self._commits = 0
            self._last_checkpoint = time.monotonic()
            try:
                self.db.checkpoint()
            except KeelError:
                pass  # a busy store: the next round or the last connection to close will do it

    def close(self) -> None:
        """Write what is left (reporting, not raising, a failure) and stop the thread."""
        self._closed = True
        self._wake.set()
        self._write()
        self._maybe_checkpoint(force=True)
        if self.error is not None or self._failed is not None:
            lost = len(self._failed) if self._failed is not None else 0
            print(
                f"keel: {lost} tracking records could not be written: {self.error}",
                file=sys.stderr,
            )
