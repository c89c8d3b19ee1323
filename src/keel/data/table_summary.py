"""Summaries of CSV and Parquet tables, for `keel data diff` and `keel.dataset`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput

TABLE_SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def table_format(name: str) -> str | None:
    return TABLE_SUFFIXES.get(Path(name).suffix.lower())


@dataclass
class ColumnSummary:
    type: str
    nulls: int
    distinct: int | None = None
    min: Any = None
    max: Any = None
    mean: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TableSummary:
    format: str
    rows: int
    columns: dict[str, ColumnSummary] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, str]:
        return {name: c.type for name, c in self.columns.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "columns": {k: v.to_dict() for k, v in self.columns.items()},
        }


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def summarize(path: Path, fmt: str) -> TableSummary:
    """Row count and per-column type, nulls, distinct count, min, max and mean."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            from pyarrow import csv

            options = csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
            table = csv.read_csv(path, parse_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(
            f"{path.name} is not a readable {fmt.upper()} table: {str(exc).splitlines()[0]}."
        ) from None
    summary = TableSummary(fmt, table.num_rows)
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        col = ColumnSummary(str(kind), column.null_count)
        try:
            col.distinct = int(pc.count_distinct(column).as_py())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            col.distinct = None
        if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind):
            try:
                bounds = pc.min_max(column).as_py()
                col.min, col.max = _plain(bounds["min"]), _plain(bounds["max"])
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                pass
            if pa.types.is_integer(kind) or pa.types.is_floating(kind):
                mean = pc.mean(column).as_py()
                col.mean = _plain(float(mean)) if mean is not None else None
        summary.columns[name] = col
    return summary


def compare(old: TableSummary, new: TableSummary) -> dict[str, Any]:
    """Schema changes, row counts and per-column summary changes between two tables."""
    added = [c for c in new.columns if c not in old.columns]
    removed = [c for c in old.columns if c not in new.columns]
    retyped = {
        c: [old.columns[c].type, new.columns[c].type]
        for c in new.columns
        if c in old.columns and old.columns[c].type != new.columns[c].type
    }
    changed: dict[str, dict[str, list[Any]]] = {}
    for name in new.columns:
        if name not in old.columns:
            continue
        before, after = old.columns[name].to_dict(), new.columns[name].to_dict()
        delta = {
            k: [before[k], after[k]]
            for k in ("nulls", "distinct", "min", "max", "mean")
            if before[k] != after[k]
        }
        if delta:
            changed[name] = delta
    return {
        "rows": [old.rows, new.rows],
        "columns_added": added,
        "columns_removed": removed,
        "type_changes": retyped,
        "column_changes": changed,
    }
