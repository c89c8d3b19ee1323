"""The scoring server's application (FastAPI): predict, feedback, health, metadata, metrics.

Every error is the JSON envelope ``{"error": {"code", "message", "details"}}`` with a 4xx
status: 400 malformed body, 413 too large, 422 input that does not match the signature
(``details.errors`` lists every field's problem), 404 unknown route. The model in use is one
reference that the alias follower swaps atomically, so a request always completes on the
version it started with.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from keel.core.errors import InvalidInput, KeelError, NotFound
from keel.core.models import ModelVersion, parse_model_ref
from keel.models.fast import FastPath
from keel.models.model import KeelModel
from keel.serving.metrics import ServerMetrics
from keel.serving.prediction_log import PredictionLog

#: Requests with more rows than this predict on a worker thread, off the event loop.
INLINE_ROWS = 256
CONFIG_ENV = "KEEL_SERVE_CONFIG"


@dataclass(frozen=True)
class ServeConfig:
    ref: str
    root: str
    max_body: int = 16 << 20
    log_max_rows: int = 10_000
    log_flush_seconds: float = 5.0
    poll_seconds: float = 2.0
    log_predictions: bool = True

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        return cls(**json.loads(text))


@dataclass
class Served:
    """The model answering requests now (replaced as a whole when the alias moves)."""

    model: KeelModel
    version: ModelVersion
    columns: list[str]
    lineage: dict[str, Any] = field(default_factory=dict)
    #: the small-request fast path, when proven equivalent for this model (keel.models.fast)
    fast: FastPath | None = None


class ServerState:
    def __init__(self, config: ServeConfig) -> None:
        from keel.core.workspace import load_workspace
        from keel.tracking.session import session_for_workspace

        self.config = config
        self.ref = parse_model_ref(config.ref)
        self.workspace = load_workspace(Path(config.root))
        self.session = session_for_workspace(self.workspace)
        self.served = self._load(self.ref)
        self.metrics = ServerMetrics()
        self.metrics.set_version(self.served.version.version)
        self.log: PredictionLog | None = None
        if config.log_predictions:
            self.log = PredictionLog(
                self.workspace.predictions_dir,
                self.served.version.name,
                config.log_max_rows,
                config.log_flush_seconds,
            )
        self.monitor_run: str | None = None
        self.refresh_monitoring()
        self.ready = True
        self.follow_error: str | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._follower = threading.Thread(target=self._follow, name="keel-alias-follower", daemon=True)
        self._follower.start()

    def _load(self, ref: Any) -> Served:
        from keel.models.registry import get_model_version, lineage, load_package

        version = get_model_version(ref, session=self.session)
        model = load_package(self.session, version)
        try:
            found = lineage(version.ref, session=self.session)
        except KeelError:
            found = {}
        columns = model.signature.names if model.signature is not None else []
        return Served(model, version, columns, found, model.fast)

    def refresh_monitoring(self) -> None:
        """Export the latest monitor run of this model (drift, performance) as gauges."""
        from keel.tracking.queries import search_runs

        name = self.served.version.name.replace("'", "")
        found = search_runs(
            f"attributes.kind = 'monitor' and tags.`keel.monitor.model_name` = '{name}'",
            order_by="attributes.start_time desc",
            max_results=1,
            session=self.session,
        )
        if found and found[0].id != self.monitor_run:
            self.metrics.set_monitoring(dict(found[0].metrics))
            self.monitor_run = found[0].id

    def _follow(self) -> None:
        """Poll the alias (when served by alias): when it moves, load the new version and swap
        it in. Also refresh the monitoring gauges."""
        from keel.store.registry_repo import alias_version

        name, alias = self.served.version.name, self.ref.alias
        while not self._stop.wait(self.config.poll_seconds):
            try:
                self.refresh_monitoring()
            except Exception as exc:  # noqa: BLE001 - gauges are best effort; serving goes on
                self.follow_error = f"monitoring gauges: {type(exc).__name__}: {exc}"
            if alias is None:
                continue
            try:
                with self.session.db.read() as conn:
                    target = alias_version(conn, name, alias)
                if target is None or target == self.served.version.version:
                    continue
                from keel.core.models import ModelRef

                self.served = self._load(ModelRef(name, version=target))
                self.metrics.set_version(target)
                self.follow_error = None
            except Exception as exc:  # noqa: BLE001 - keep serving the current version
                self.follow_error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self.ready = False
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
        if self.log is not None:
            self.log.close()
        self.session.flush()


# -- request parsing -----------------------------------------------------------------------------


@dataclass
class Body:
    """A parsed /predict body: JSON records, column-split rows, or a frame (CSV, dict of columns)."""

    records: list[dict[str, Any]] | None = None
    columns: list[Any] | None = None
    rows: list[list[Any]] | None = None
    table: Any = None

    def frame(self) -> Any:
        """The body as a pandas DataFrame."""
        import pandas as pd

        if self.table is not None:
            return self.table
        if self.records is not None:
            return pd.DataFrame.from_records(self.records)
        return pd.DataFrame(self.rows, columns=[str(c) for c in self.columns or []])


def parse_body(body: bytes, content_type: str) -> Body:
    """JSON records, column-split JSON, a JSON dict of columns, or CSV."""
    if not body.strip():
        raise InvalidInput("The request body is empty; send JSON records [{...}], column-split JSON or CSV.")
    kind = content_type.split(";", maxsplit=1)[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        import pandas as pd

        try:
            return Body(table=pd.read_csv(io.BytesIO(body)))
        except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"The CSV body cannot be read: {str(exc).splitlines()[0]}.") from None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"The body is not valid JSON ({exc}); send JSON records [{{...}}] or CSV."
        ) from None
    if isinstance(data, dict):
        for key in ("dataframe_records", "records", "instances"):
            if key in data:
                data = data[key]
                break
        else:
            split = data.get("dataframe_split", data)
            if isinstance(split, dict) and "columns" in split and "data" in split:
                return _split_body(split)
            if data and all(isinstance(v, list) for v in data.values()):
                import pandas as pd

                lengths = {len(v) for v in data.values()}
                if len(lengths) != 1:
                    raise InvalidInput(
                        "Columns of different lengths; give every column the same number of values."
                    )
                return Body(table=pd.DataFrame(data))
            raise InvalidInput(
                'Expected JSON records [{"col": value, …}], {"columns": [...], "data": [[...]]}, '
                'or {"col": [values…]}.'
            )
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(row, dict) for row in data):
        raise InvalidInput('Expected a non-empty list of JSON records, e.g. [{"age": 31, "plan": "pro"}].')
    return Body(records=data)


def _split_body(split: dict[str, Any]) -> Body:
    columns, rows = split["columns"], split["data"]
    if not isinstance(columns, list) or not isinstance(rows, list) or not rows:
        raise InvalidInput('Column-split JSON needs "columns": [names] and "data": [[row values], …].')
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InvalidInput(f"Row {index} of 'data' does not have {len(columns)} values (one per column).")
    return Body(columns=columns, rows=rows)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        from keel.core.entities import json_number

        return json_number(value)
    return value


def _log_value(value: Any, label: bool) -> Any:
    if label:
        return str(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    return json.dumps(value)


# -- the application -------------------------------------------------------------------------------


def create_app(config: ServeConfig) -> Any:
    holder: dict[str, ServerState] = {}

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        holder["state"] = ServerState(config)
        try:
            yield
        finally:
            state = holder.pop("state")
            await asyncio.get_running_loop().run_in_executor(None, state.close)

    app = FastAPI(title="Keel scoring server", lifespan=lifespan, docs_url=None, redoc_url=None)

    def envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        return Response(json.dumps(body), status_code=status, media_type="application/json")

    def answer(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data, allow_nan=False), status_code=status, media_type="application/json")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return envelope(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return envelope(
            422,
            "invalid_input",
            "The request does not match what the endpoint takes.",
            {"errors": exc.errors()},
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        return envelope(500, "internal_error", f"{type(exc).__name__}: {exc}")

    async def read_body(request: Request, limit: int) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise _TooLarge(int(length), limit)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge(size, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def state() -> ServerState:
        return holder["state"]

    @app.post("/predict")
    async def predict(request: Request) -> Response:
        started = time.perf_counter()
        current = state()
        try:
            body = await read_body(request, current.config.max_body)
            parsed = parse_body(body, request.headers.get("content-type", "application/json"))
            served = current.served  # one reference: this request finishes on this version
            fast, matrix = served.fast, None
            if fast is not None:
                if parsed.records is not None:
                    matrix = fast.matrix(parsed.records)
                elif parsed.rows is not None and parsed.columns is not None:
                    matrix = fast.matrix_split(parsed.columns, parsed.rows)
            if fast is not None and matrix is not None:
                result = fast.predict(matrix)
                inputs = fast.inputs(matrix) if current.log is not None else {}
            else:
                try:
                    prepared = served.model.prepare(parsed.frame())
                except InvalidInput as exc:
                    current.metrics.request("predict", 422, time.perf_counter() - started)
                    return envelope(422, "invalid_input", exc.message, exc.details)
                if len(prepared) > INLINE_ROWS:
                    from starlette.concurrency import run_in_threadpool

                    result = await run_in_threadpool(served.model.predict_rows, prepared)
                else:
                    result = served.model.predict_rows(prepared)
                inputs = (
                    {str(c): prepared[c].tolist() for c in prepared.columns}
                    if current.log is not None
                    else {}
                )
        except _TooLarge as exc:
            current.metrics.request("predict", 413, time.perf_counter() - started)
            return envelope(
                413,
                "payload_too_large",
                f"The body has {exc.size:,}+ bytes; this server takes at most {exc.limit:,} "
                "(KEEL_SERVE_MAX_BODY_MB). Split the rows into smaller requests.",
            )
        except KeelError as exc:
            current.metrics.request("predict", exc.http_status, time.perf_counter() - started)
            return envelope(exc.http_status, exc.code, exc.message, exc.details)
        except Exception as exc:  # noqa: BLE001 - the model itself failed on valid input
            current.metrics.request("predict", 500, time.perf_counter() - started)
            return envelope(
                500, "prediction_failed", f"The model failed to predict: {type(exc).__name__}: {exc}"
            )
        version = served.version
        batch = os.urandom(8).hex()
        ids = [f"{batch}-{i}" for i in range(len(result.values))]
        rows_out: list[dict[str, Any]] = []
        probabilities = result.probabilities
        for index, value in enumerate(result.values):
            row: dict[str, Any] = {"request_id": ids[index], "prediction": _plain(value)}
            if probabilities is not None:
                row["probabilities"] = probabilities[index]
            rows_out.append(row)
        if current.log is not None:
            label = served.model.signature is not None and served.model.signature.output == "label"
            now = datetime.now(UTC)
            records = []
            for index, value in enumerate(result.values):
                record: dict[str, Any] = {
                    "request_id": ids[index],
                    "timestamp": now,
                    "model": version.name,
                    "version": version.version,
                }
                for key, values in inputs.items():
                    record[f"in.{key}"] = values[index]
                record["prediction"] = _log_value(value, label)
                if probabilities is not None:
                    for cls, p in probabilities[index].items():
                        record[f"proba.{cls}"] = p
                records.append(record)
            current.log.predictions.append(records)
        current.metrics.predictions(version.version, result.values, label=result.probabilities is not None)
        current.metrics.request("predict", 200, time.perf_counter() - started)
        return answer({"model": version.name, "version": version.version, "predictions": rows_out})

    @app.post("/feedback")
    async def feedback(request: Request) -> Response:
        started = time.perf_counter()
        current = state()
        try:
            body = await read_body(request, current.config.max_body)
            items = _feedback_items(body)
        except _TooLarge as exc:
            current.metrics.request("feedback", 413, time.perf_counter() - started)
            return envelope(413, "payload_too_large", f"The body is over {exc.limit:,} bytes.")
        except InvalidInput as exc:
            current.metrics.request("feedback", 400, time.perf_counter() - started)
            return envelope(400, exc.code, exc.message, exc.details)
        if current.log is not None:
            now = datetime.now(UTC)
            current.log.feedback.append(
                {"request_id": rid, "timestamp": now, "label": str(label)} for rid, label in items
            )
        current.metrics.request("feedback", 202, time.perf_counter() - started)
        return answer({"accepted": len(items)}, 202)

    @app.get("/health")
    async def health() -> Response:
        return answer({"status": "ok"})

    @app.get("/ready")
    async def ready() -> Response:
        current = holder.get("state")
        if current is None or not current.ready:
            return envelope(503, "not_ready", "The server is starting or shutting down.")
        version = current.served.version
        return answer({"ready": True, "model": version.name, "version": version.version})

    @app.get("/metadata")
    async def metadata() -> Response:
        current = state()
        served = current.served
        manifest = served.model.manifest
        return answer(
            {
                "model": served.version.name,
                "version": served.version.version,
                "reference": current.config.ref,
                "alias": current.ref.alias,
                "flavor": served.version.flavor,
                "package": served.version.package_oid,
                "signature": manifest.get("signature"),
                "requirements": manifest.get("requirements"),
                "input_example": served.model.input_example,
                "lineage": served.lineage,
                "follow_error": current.follow_error,
                "prediction_log": str(current.log.root) if current.log is not None else None,
                "log_error": (current.log.predictions.error if current.log is not None else None),
            }
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        payload, content_type = state().metrics.exposition()
        return Response(payload, media_type=content_type)

    return app


class _TooLarge(Exception):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__("too large")
        self.size = size
        self.limit = limit


def _feedback_items(body: bytes) -> list[tuple[str, Any]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput('The body is not valid JSON; send {"request_id": "...", "label": ...}.') from None
    items = data if isinstance(data, list) else [data]
    found = []
    for item in items:
        if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
            raise InvalidInput(
                'Each feedback item needs "request_id" and "label", e.g. {"request_id": "ab12-0", "label": 1}.'
            )
        rid, label = item["request_id"], item["label"]
        if not isinstance(rid, str) or not rid or len(rid) > 200:
            raise InvalidInput(f"request_id {rid!r} must be the id /predict returned (a non-empty string).")
        if isinstance(label, dict | list) or label is None:
            raise InvalidInput(f"The label of {rid} must be a single value (number, string or boolean).")
        found.append((rid, label))
    if not found:
        raise InvalidInput("No feedback items in the body.")
    return found


def app_from_env() -> Any:
    """The application for uvicorn's workers (``--workers N``): configured by KEEL_SERVE_CONFIG."""
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise NotFound(f"{CONFIG_ENV} is not set; start the server with `keel serve`.")
    return create_app(ServeConfig.from_json(text))
