"""``keel serve``, ``keel predict`` and ``keel predictions …``."""

from __future__ import annotations

from pathlib import Path

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json


@click.command()
@click.argument("ref")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface)."
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one)."
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--no-log", is_flag=True, help="Do not write the prediction log.")
@click.option("--access-log", is_flag=True, help="Print a line per request.")
def serve(ref: str, host: str, port: int, workers: int, no_log: bool, access_log: bool) -> None:
    """Serve model REF (NAME@ALIAS, NAME/3 or NAME) over HTTP until Ctrl-C or SIGTERM.

    \b
    POST /predict    JSON records [{"col": v}], {"columns": [...], "data": [[...]]}, or CSV
                     (Content-Type: text/csv); answers a prediction, class probabilities
                     and a request id per row. Input is checked against the model's
                     signature: problems → 422 with every field's error.
    POST /feedback   {"request_id": "...", "label": ...}: ground truth for monitoring
    GET  /health /ready /metadata /metrics (Prometheus)

    Served as NAME@ALIAS, the server follows the alias: when it moves, the new version
    is loaded and swapped in without failing a request. Every prediction is appended to
    the prediction log (.keel/predictions/NAME/, Parquet); on SIGTERM in-flight requests
    finish and the log is flushed. Export it with `keel predictions export NAME`.
    """
    from keel.core.workspace import open_workspace
    from keel.serving.server import serve as run_server

    run_server(
        open_workspace(),
        ref,
        host=host,
        port=port,
        workers=workers,
        log_predictions=not no_log,
        access_log=access_log,
    )


@click.command()
@click.argument("ref")
@click.option(
    "-i",
    "--input",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV, Parquet, JSON or JSONL rows.",
)
@click.option(
    "-o",
    "--output",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write rows + predictions.",
)
@json_option
def predict(ref: str, source: Path, dest: Path, as_json: bool) -> None:
    """Score a file with model REF: every input row plus `prediction` (and `proba.CLASS` columns
    for classifiers), written to --output in the format its extension names.

    \b
    Example:
      keel predict churn@production -i data/new.csv -o reports/scored.parquet
    """
    from keel.core.workspace import open_workspace
    from keel.serving.batch import predict_file

    result = predict_file(open_workspace(), ref, source, dest)
    if as_json:
        emit_json(result)
        return
    click.echo(
        f"scored {result['rows']:,} rows with {result['model']}/{result['version']} → {result['output']}"
    )


@click.group()
def predictions() -> None:
    """The scoring server's prediction log."""


@predictions.command("export")
@click.argument("name")
@click.option(
    "--since", help="Only predictions since then: 24h, 30m, 7d, or a date/time like 2026-11-29T08:00."
)
@click.option(
    "-o",
    "--output",
    "dest",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV, Parquet, JSON or JSONL file.",
)
@json_option
def export(name: str, since: str | None, dest: Path, as_json: bool) -> None:
    """Write model NAME's logged predictions (with a `label` column from /feedback) to a file."""
    from keel.core.workspace import open_workspace
    from keel.serving.batch import export_predictions
    from keel.serving.prediction_log import parse_since

    result = export_predictions(open_workspace(), name, parse_since(since), dest)
    if as_json:
        emit_json(result)
        return
    click.echo(
        f"exported {result['rows']:,} predictions of {name} ({result['labelled']:,} with labels) → {result['output']}"
    )
