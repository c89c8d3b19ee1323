"""Reading and writing tables (CSV, TSV, Parquet, JSON lines) as pandas DataFrames.

One place for the formats every table-shaped command takes: batch scoring, prediction
exports and data checks. A folder reads as the concatenation of the tables in it (sorted by
path, so the row order is stable). Writes are atomic: a temporary file renamed into place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput, NotFound

FORMATS = (".csv", ".tsv", ".parquet", ".pq", ".json", ".jsonl")


def table_suffix(path: Path, role: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{role} {path}: unknown format {suffix or '(none)'}; use .csv, .tsv, .parquet, .json or .jsonl."
        )
    return suffix


def read_table(path: Path, role: str = "Input") -> Any:
    """``path`` (a table file, or a folder of them) as one DataFrame."""
    import pandas as pd

    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
        if not files:
            raise InvalidInput(f"{role} folder {path} holds no .csv, .tsv, .parquet, .json or .jsonl table.")
        parts = [_read_file(p, role) for p in files]
        try:
            return pd.concat(parts, ignore_index=True)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"{role} folder {path}: its tables do not fit together ({str(exc).splitlines()[0]}); "
                "check them one file at a time."
            ) from None
    table_suffix(path, role)
    if not path.is_file():
        raise NotFound(f"{role} {path} does not exist.")
    return _read_file(path, role)


def _read_file(path: Path, role: str, source: Any = None) -> Any:
    """Read ``source`` (default: ``path``; or an open binary file) in the format ``path`` names."""
    import pandas as pd

    suffix = table_suffix(path, role)
    source = path if source is None else source
    try:
        if suffix in (".csv", ".tsv"):
            return _dates_as_timestamps(
                pd.read_csv(source, sep="\t" if suffix == ".tsv" else ",", engine="pyarrow")
            )
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(source)
        return pd.read_json(source, lines=suffix == ".jsonl", orient="records", precise_float=True)
    except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidInput(f"Cannot read {path}: {message}.") from None
    except Exception as exc:
        if type(exc).__module__.startswith("pyarrow"):
            raise InvalidInput(f"Cannot read {path}: {str(exc).splitlines()[0]}.") from None
        raise


def read_table_from(source: Any, path: Path, role: str = "Input") -> Any:
    """A table from an open binary file holding ``path``'s content (e.g. a recorded version)."""
    return _read_file(path, role, source)


def _dates_as_timestamps(frame: Any) -> Any:
    """CSV dates (``2024-01-31``) come from pyarrow as ``datetime.date`` objects: make them datetimes."""
    import datetime

    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        first = column.first_valid_index()
        if first is not None and type(column[first]) is datetime.date:
            frame[name] = pd.to_datetime(column)
    return frame


def write_table(frame: Any, path: Path) -> None:
    """Write atomically (a temporary file renamed into place): no partial output on failure."""
    suffix = table_suffix(path, "Output")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.keel-tmp")
    try:
        if suffix in (".csv", ".tsv"):
            frame.to_csv(tmp, index=False, sep="\t" if suffix == ".tsv" else ",")
        elif suffix in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_json(tmp, orient="records", lines=suffix == ".jsonl", date_format="iso")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
