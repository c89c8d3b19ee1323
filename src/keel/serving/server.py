"""Starting the scoring server: check the model loads, then run uvicorn (one or more workers)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

from keel.core.errors import InvalidInput
from keel.core.workspace import Workspace
from keel.serving.app import CONFIG_ENV, ServeConfig


def check_port(host: str, port: int) -> None:
    """Refuse at once, with the fix, when the address is taken or cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidInput(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port "
                "(or --port 0 for any free one)."
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve(
    workspace: Workspace,
    ref: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    log_predictions: bool = True,
    access_log: bool = False,
) -> None:
    """Serve ``ref`` until SIGINT/SIGTERM; in-flight requests finish and the log is flushed."""
    import uvicorn

    from keel.models.registry import get_model_version, load_package
    from keel.tracking.session import session_for_workspace

    settings = workspace.settings
    # Fail before binding anything: an unknown model, a tampered package or a missing library.
    session = session_for_workspace(workspace)
    load_package(session, get_model_version(ref, session=session))
    if port == 0:
        port = free_port(host)
    check_port(host, port)
    config = ServeConfig(
        ref=ref,
        root=str(workspace.root),
        max_body=int(settings.serve_max_body_mb * (1 << 20)),
        log_max_rows=int(settings.serve_log_max_rows),
        log_flush_seconds=float(settings.serve_log_flush_seconds),
        poll_seconds=float(settings.serve_poll_seconds),
        log_predictions=log_predictions,
    )
    os.environ[CONFIG_ENV] = config.to_json()
    if workers > 1:
        metrics_dir = Path(tempfile.mkdtemp(prefix="keel-serve-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    print(
        f"Serving {ref} on http://{host}:{port} (POST /predict; GET /health /ready /metadata /metrics)",
        flush=True,
    )
    uvicorn.run(
        "keel.serving.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=access_log,
        timeout_graceful_shutdown=30,
        loop="auto",
        http="auto",
    )
