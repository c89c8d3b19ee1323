"""The handle of a run being recorded: ``keel.start_run()`` returns one.

Every ``log_*`` call validates its input completely before queueing anything, so bad input
writes nothing. Queued writes reach the store through the session's background writer;
``end()`` writes everything and the final status in one transaction.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.keys import (
    _valid_keys,
    check_key,
    metric_value,
    param_value,
    step_value,
    tag_value,
    timestamp_value,
)
from keel.core.values import DatasetVersion, RunStatus, to_datetime
from keel.core.yaml_file import safe_dump

if TYPE_CHECKING:
    from keel.tracking.session import Session

_ENDABLE = {s.value for s in RunStatus.terminal()} - {RunStatus.DEAD.value}


class ActiveRun:
    """A run this process is logging to. Use as a context manager, or call :meth:`end`."""

    def __init__(
        self,
        session: Session,
        run_id: str,
        experiment: str,
        name: str | None,
        parent_id: str | None,
        start_time: float,
        owned: bool,
        params: dict[str, tuple[Any, str]] | None = None,
        steps: dict[str, int] | None = None,
    ) -> None:
        self.session = session
        self.id = run_id
        self.experiment = experiment
        self.name = name
        self.parent_id = parent_id
        self._start_time = start_time
        #: False when attached through KEEL_RUN_ID: the process that started it ends it.
        self.owned = owned
        self._status = RunStatus.RUNNING.value
        self._ended = False
        self._params: dict[str, tuple[Any, str]] = dict(params or {})
        self._metrics: dict[str, float] = {}
        self._tags: dict[str, str] = {}
        self._steps: dict[str, int] = dict(steps or {})
        self._writer = session.writer

    # -- what it holds ----------------------------------------------------------------------

    @property
    def status(self) -> str:
        return self._status

    @property
    def start_time(self) -> datetime:
        moment = to_datetime(self._start_time)
        assert moment is not None
        return moment

    @property
    def params(self) -> dict[str, Any]:
        return {key: value for key, (value, _) in self._params.items()}

    @property
    def metrics(self) -> dict[str, float]:
        """Latest value of each metric this process logged."""
        return dict(self._metrics)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id} experiment={self.experiment!r} name={self.name!r} {self._status}>"

    # -- logging -------------------------------------------------------------------------------

    def _closed_error(self) -> Conflict:
        return Conflict(
            f"Run {self.id[:12]} is {self._status}; nothing more can be logged to it. "
            "Start a new run with keel.start_run()."
        )

    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: float | datetime | None = None
    ) -> None:
        """Log one value of a metric. ``step`` defaults to the metric's previous step + 1."""
        if self._ended:
            raise self._closed_error()
        if key not in _valid_keys:
            check_key("metric", key)
        if type(value) is not float:
            value = metric_value(key, value)
        steps = self._steps
        if step is None:
            step = steps.get(key, 0)
        elif type(step) is not int:
            step = step_value(key, step)
        if step >= steps.get(key, 0):
            steps[key] = step + 1
        ts = time.time() if timestamp is None else timestamp_value(key, timestamp)
        self._metrics[key] = value
        self._writer.add_metric((self.id, key, step, ts, value))

    def log_metrics(
        self,
        metrics: Mapping[str, float],
        step: int | None = None,
        timestamp: float | datetime | None = None,
    ) -> None:
        """Log several metrics at once (all validated before any is queued)."""
        if self._ended:
            raise self._closed_error()
        if not isinstance(metrics, Mapping):
            raise InvalidInput(
                f"log_metrics takes a mapping of name to number, not {type(metrics).__name__}."
            )
        ts = time.time() if timestamp is None else timestamp_value("*", timestamp)
        fixed_step = None if step is None else step_value("*", step)
        steps = self._steps
        rows = []
        for key, value in metrics.items():
            if key not in _valid_keys:
                check_key("metric", key)
            if type(value) is not float:
                value = metric_value(key, value)
            row_step = steps.get(key, 0) if fixed_step is None else fixed_step
            rows.append((self.id, key, row_step, ts, value))
        for _, key, row_step, _, value in rows:
            if row_step >= steps.get(key, 0):
                steps[key] = row_step + 1
            self._metrics[key] = value
        self._writer.add(metrics=rows)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters. A param is immutable: logging a different value raises Conflict."""
        if self._ended:
            raise self._closed_error()
        rows = self._param_rows(params)
        if rows:
            self._writer.add(params=rows)

    def _param_rows(self, params: Mapping[str, Any]) -> list[tuple[str, str, str, float | None, bool]]:
        if not isinstance(params, Mapping):
            raise InvalidInput(f"Params must be a mapping of name to value, not {type(params).__name__}.")
        rows = []
        staged: dict[str, tuple[Any, str]] = {}
        for key, value in params.items():
            check_key("param", key)
            plain, text, number = param_value(key, value)
            known = self._params.get(key) or staged.get(key)
            if known is not None:
                if known[1] != text:
                    raise Conflict(
                        f"Param '{key}' of run {self.id[:12]} is already {known[1]!r}; it cannot "
                        f"become {text!r} (params are immutable: start a new run, or log a "
                        "metric or tag for values that change)."
                    )
                continue
            staged[key] = (plain, text)
            rows.append((self.id, key, text, number, isinstance(plain, str)))
        self._params.update(staged)
        return rows

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set tags (mutable string labels; setting a tag again replaces its value)."""
        if self._ended:
            raise self._closed_error()
        rows = self._tag_rows(tags)
        if rows:
            self._writer.add(tags=rows)

    def _tag_rows(self, tags: Mapping[str, Any]) -> list[tuple[str, str, str]]:
        if not isinstance(tags, Mapping):
            raise InvalidInput(f"Tags must be a mapping of name to value, not {type(tags).__name__}.")
        rows = [(self.id, check_key("tag", k), tag_value(k, v)) for k, v in tags.items()]
        self._tags.update({k: v for _, k, v in rows})
        return rows

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(self, path: str | Path, name: str | None = None) -> str:
        """Store a file with the run under ``name`` (default: its file name); return its object id."""
        if self._ended:
            raise self._closed_error()
        source = Path(path)
        if not source.exists():
            raise NotFound(f"Cannot log artifact {source}: no such file.")
        if source.is_dir():
            raise InvalidInput(f"{source} is a folder; log folders with keel.log_artifacts.")
        artifact = _artifact_name(name if name is not None else source.name)
        oid, size = self.session.objects.put_file(source)
        self._writer.add(artifacts=[(self.id, artifact, oid, size)])
        return oid

    def log_artifacts(self, folder: str | Path, prefix: str | None = None) -> dict[str, str]:
        """Store every file under ``folder`` (names relative to it, under ``prefix``)."""
        if self._ended:
            raise self._closed_error()
        root = Path(folder)
        if not root.is_dir():
            raise NotFound(f"Cannot log artifacts from {root}: no such folder.")
        base = _artifact_name(prefix) + "/" if prefix else ""
        files = sorted(p for p in root.rglob("*") if p.is_file())
        names = [_artifact_name(base + p.relative_to(root).as_posix()) for p in files]
        rows = []
        for file, artifact in zip(files, names, strict=True):
            oid, size = self.session.objects.put_file(file)
            rows.append((self.id, artifact, oid, size))
        if rows:
            self._writer.add(artifacts=rows)
        return {artifact: oid for _, artifact, oid, _ in rows}

    def log_text(self, text: str, name: str) -> str:
        """Store ``text`` (UTF-8) as an artifact called ``name``."""
        if not isinstance(text, str):
            raise InvalidInput(f"log_text takes a string, not {type(text).__name__}.")
        return self._log_bytes(text.encode("utf-8"), name)

    def log_dict(self, data: Any, name: str) -> str:
        """Store ``data`` as JSON, or as YAML when ``name`` ends in .yaml/.yml."""
        artifact = _artifact_name(name)
        try:
            if artifact.endswith((".yaml", ".yml")):
                payload = safe_dump(data).encode("utf-8")
            else:
                payload = json.dumps(data, indent=2, allow_nan=True, default=_json_default).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"Cannot store {artifact}: {exc}.") from None
        except Exception as exc:  # noqa: BLE001 - yaml's RepresenterError
            raise InvalidInput(f"Cannot store {artifact} as YAML: {exc}.") from None
        return self._log_bytes(payload, artifact)

    def _log_bytes(self, payload: bytes, name: str) -> str:
        if self._ended:
            raise self._closed_error()
        artifact = _artifact_name(name)
        oid = self.session.objects.put_bytes(payload)
        self._writer.add(artifacts=[(self.id, artifact, oid, len(payload))])
        return oid

    # -- datasets ------------------------------------------------------------------------------

    def log_input(self, dataset: DatasetVersion) -> None:
        """Record that this run read ``dataset`` (from ``keel.dataset(path)``)."""
        self._log_dataset("input", dataset)

    def log_output(self, dataset: DatasetVersion) -> None:
        """Record that this run wrote ``dataset``."""
        self._log_dataset("output", dataset)

    def _log_dataset(self, direction: str, dataset: DatasetVersion) -> None:
        if self._ended:
            raise self._closed_error()
        if not isinstance(dataset, DatasetVersion):
            raise InvalidInput(
                f"log_{direction} takes a dataset version from keel.dataset(path), not {type(dataset).__name__}."
            )
        row = (
            self.id,
            direction,
            dataset.path,
            dataset.oid,
            dataset.kind,
            dataset.size,
            dataset.files,
            dataset.rows,
        )
        self._writer.add(datasets=[row])

    # -- lifecycle -----------------------------------------------------------------------------

    def flush(self) -> None:
        self.session.flush()

    def end(self, status: str = "finished") -> None:
        """Finish the run with ``status`` (finished, failed or killed) and write everything."""
        if self._ended:
            return
        if status not in _ENDABLE:
            raise InvalidInput(
                f"Run status {status!r} is not one a run can end with; use {', '.join(sorted(_ENDABLE))}."
            )
        self._ended = True
        # Only keel.tracking.fluent puts runs on the active-run stack: if it is not loaded,
        # this run is not on it (and loading it would cost the command its entities).
        forget = getattr(sys.modules.get("keel.tracking.fluent"), "_forget", None)
        if forget is not None:
            forget(self)
        if self.owned:
            self._status = status
            self._writer.add(ends=[(self.id, status, time.time())])
        self.session.flush()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end(RunStatus.FINISHED.value)
            return
        if self.owned and not self._ended:
            import traceback  # only when a run ends in an exception

            summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
            try:
                self.set_tag("keel.error", summary[-4000:])
            except Exception:  # noqa: BLE001 - never mask the user's exception
                pass
        status = RunStatus.KILLED if issubclass(exc_type, KeyboardInterrupt) else RunStatus.FAILED
        self.end(status.value)


def _artifact_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"Artifact name {name!r} must be a non-empty string.")
    parts = name.replace("\\", "/").split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts) or len(name) > 1000:
        raise InvalidInput(
            f"Artifact name {name!r} is not allowed; use a relative path like 'plots/loss.png' "
            "without '..', empty parts or a leading '/' (at most 1000 characters)."
        )
    return "/".join(parts)


def _json_default(value: Any) -> Any:
    item = getattr(value, "tolist", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
