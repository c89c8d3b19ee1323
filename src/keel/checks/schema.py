"""Data schemas: what a table must look like, inferred from a reference and then edited.

A schema file (``checks/NAME.schema.yaml``)::

    format: 1
    data: data/raw/wine.csv      # what `keel check all` checks with it (optional)
    rows: {min: 89, max: 356}    # row-count band
    strict: true                 # columns not listed fail the check
    severity: fail               # default for every rule: fail or warn
    columns:
      alcohol: {type: float, min: 11.0, max: 14.9}
      grade: {type: string, categories: [A, B, C], mostly: 0.99, severity: warn}
      id: {type: integer, unique: true}

Column keys: ``type`` (integer, float, boolean, string, datetime), ``nullable`` (default
false) or ``max_null_fraction``, ``min``, ``max``, ``categories``, ``unique``, ``pattern``
(a regular expression every string must match in full), ``mostly`` (the fraction of
non-null values that must pass each value rule; 1.0 by default) and ``severity``. Every
error names the file, the line and the key.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.checks.results import SEVERITIES
from keel.core.errors import ConfigError
from keel.core.yaml_file import YamlDocument, load_yaml_mapping
from keel.models.signature import TYPES

if TYPE_CHECKING:
    import pandas as pd

FORMAT = 1
TABLE_KEYS = ("format", "data", "rows", "strict", "severity", "columns")
COLUMN_KEYS = (
    "type",
    "nullable",
    "max_null_fraction",
    "min",
    "max",
    "categories",
    "unique",
    "pattern",
    "mostly",
    "severity",
)
#: Inferred categories: at most this many distinct strings, each seen at least twice on average.
MAX_CATEGORIES = 20
_ID_NAME = re.compile(r"(^|[_\s-])(id|key|uuid)$", re.IGNORECASE)


@dataclass(frozen=True)
class ColumnRules:
    name: str
    type: str | None = None
    nullable: bool = False
    max_null_fraction: float | None = None
    min: Any = None
    max: Any = None
    categories: tuple[Any, ...] | None = None
    unique: bool = False
    pattern: str | None = None
    mostly: float = 1.0
    severity: str = "fail"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.type is not None:
            body["type"] = self.type
        if self.nullable:
            body["nullable"] = True
        for key in ("max_null_fraction", "min", "max", "pattern"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        if self.categories is not None:
            body["categories"] = list(self.categories)
        if self.unique:
            body["unique"] = True
        if self.mostly != 1.0:
            body["mostly"] = self.mostly
        return body


@dataclass(frozen=True)
class DataSchema:
    columns: tuple[ColumnRules, ...]
    rows_min: int | None = None
    rows_max: int | None = None
    strict: bool = True
    data: str | None = None
    severity: str = "fail"
    source: str = "<schema>"  # the file it came from

    def column(self, name: str) -> ColumnRules | None:
        return next((c for c in self.columns if c.name == name), None)


# -- reading -------------------------------------------------------------------------------------


def load_schema(path: Path) -> DataSchema:
    """Parse and check a schema file (raises ConfigError naming file:line and key)."""
    return parse_schema(load_yaml_mapping(path))


def schema_from_dict(body: dict[str, Any], source: str = "<schema>") -> DataSchema:
    return parse_schema(YamlDocument(Path(source), body, {}))


def parse_schema(doc: YamlDocument) -> DataSchema:
    data = doc.data

    def error(keys: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{doc.where(*keys)}: {message}")

    unknown = [k for k in data if k not in TABLE_KEYS]
    if unknown:
        raise error((str(unknown[0]),), f"unknown key '{unknown[0]}'; schema keys: {', '.join(TABLE_KEYS)}")
    version = data.get("format", FORMAT)
    if version != FORMAT:
        raise error(("format",), f"format {version!r} is not one this Keel reads (format: {FORMAT})")
    severity = _severity(data.get("severity", "fail"), ("severity",), error)
    rows = data.get("rows") or {}
    if not isinstance(rows, dict) or set(rows) - {"min", "max"}:
        raise error(("rows",), "'rows' is a band like {min: 100, max: 10000}")
    rows_min, rows_max = (_count(rows.get(k), ("rows", k), error) for k in ("min", "max"))
    if rows_min is not None and rows_max is not None and rows_min > rows_max:
        raise error(("rows",), f"rows min {rows_min} is above max {rows_max}")
    strict = data.get("strict", True)
    if not isinstance(strict, bool):
        raise error(("strict",), "'strict' is true or false")
    target = data.get("data")
    if target is not None and not isinstance(target, str):
        raise error(("data",), "'data' is the path of the data this schema checks")
    columns_raw = data.get("columns")
    if not isinstance(columns_raw, dict) or not columns_raw:
        raise error(("columns",), "'columns' maps each column name to its rules, e.g. age: {type: integer}")
    columns = tuple(
        _column(str(name), body, ("columns", str(name)), severity, error)
        for name, body in columns_raw.items()
    )
    return DataSchema(columns, rows_min, rows_max, strict, target, severity, str(doc.path))


def _severity(value: Any, keys: tuple[str, ...], error: Any) -> str:
    if value not in SEVERITIES:
        raise error(keys, f"severity {value!r} is not one of {', '.join(SEVERITIES)}")
    return str(value)


def _count(value: Any, keys: tuple[str, ...], error: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise error(keys, f"{keys[-1]} must be a whole number ≥ 0, not {value!r}")
    return value


def _fraction(value: Any, keys: tuple[str, ...], error: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise error(keys, f"{keys[-1]} is a fraction between 0 and 1, not {value!r}")
    return float(value)


def _column(name: str, body: Any, keys: tuple[str, ...], severity: str, error: Any) -> ColumnRules:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise error(keys, f"the rules of column {name!r} are a mapping, e.g. {{type: float, min: 0}}")
    unknown = [k for k in body if k not in COLUMN_KEYS]
    if unknown:
        raise error(
            (*keys, str(unknown[0])), f"unknown rule '{unknown[0]}'; column rules: {', '.join(COLUMN_KEYS)}"
        )
    kind = body.get("type")
    if kind is not None and kind not in TYPES:
        raise error((*keys, "type"), f"type {kind!r} is not one of {', '.join(TYPES)}")
    nullable = body.get("nullable", False)
    if not isinstance(nullable, bool):
        raise error((*keys, "nullable"), "'nullable' is true or false")
    max_nulls = body.get("max_null_fraction")
    if max_nulls is not None:
        max_nulls = _fraction(max_nulls, (*keys, "max_null_fraction"), error)
    bounds = {}
    for key in ("min", "max"):
        value = body.get(key)
        if value is None:
            continue
        if kind == "datetime" or (kind is None and isinstance(value, str | datetime)):
            bounds[key] = _timestamp(value, (*keys, key), error)
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise error(
                (*keys, key), f"{key} must be a number (or a date for datetime columns), not {value!r}"
            )
        else:
            bounds[key] = value
        if kind in ("string", "boolean"):
            raise error((*keys, key), f"{key} does not apply to {kind} columns")
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise error((*keys, "min"), f"min {bounds['min']} is above max {bounds['max']}")
    categories = body.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not categories:
            raise error((*keys, "categories"), "'categories' is a non-empty list of allowed values")
        if any(isinstance(c, dict | list) for c in categories):
            raise error((*keys, "categories"), "categories are single values (strings, numbers)")
        categories = tuple(categories)
    unique = body.get("unique", False)
    if not isinstance(unique, bool):
        raise error((*keys, "unique"), "'unique' is true or false")
    pattern = body.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise error((*keys, "pattern"), "'pattern' is a regular expression (a string)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise error(
                (*keys, "pattern"), f"pattern {pattern!r} is not a valid regular expression ({exc})"
            ) from None
    mostly = _fraction(body.get("mostly", 1.0), (*keys, "mostly"), error)
    return ColumnRules(
        name=name,
        type=kind,
        nullable=nullable,
        max_null_fraction=max_nulls,
        min=bounds.get("min"),
        max=bounds.get("max"),
        categories=categories,
        unique=unique,
        pattern=pattern,
        mostly=mostly,
        severity=_severity(body.get("severity", severity), (*keys, "severity"), error),
    )


def _yaml_key(name: str) -> str:
    """``name`` as a YAML mapping key on one line: plain when that reads back the same,
    else a double-quoted (JSON) string, which YAML reads back exactly."""
    import json

    from keel.core.yaml_file import safe_load

    plain = name if name and name.isprintable() and len(name) < 200 else None
    if plain is not None:
        try:
            if safe_load(f"{plain}: 1") == {name: 1}:
                return plain
        except Exception:  # noqa: BLE001 - not a plain scalar: quote it
            pass
    return json.dumps(name, ensure_ascii=False)


def _timestamp(value: Any, keys: tuple[str, ...], error: Any) -> Any:
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise error(keys, f"{value!r} is not a date or time (use ISO 8601, e.g. 2024-01-31)") from None
    return stamp.tz_convert(None) if stamp.tzinfo is not None else stamp


# -- inferring ---------------------------------------------------------------------------------------


def infer_schema(frame: pd.DataFrame, data: str | None = None) -> DataSchema:
    """A schema that ``frame`` passes, tight enough to catch what changes: types, nulls, ranges,
    small sets of categories, id-like unique columns, and a row band of half to twice its rows."""

    from keel.models.signature import column_type, plain

    columns = []
    for name in frame.columns:
        series = frame[name]
        try:
            rules = _infer_column(series, str(name), column_type, plain)
        except (TypeError, ValueError):  # lists, dicts, mixed time zones…: no rule fits them
            rules = {"nullable": bool(series.isna().any())}
        columns.append(ColumnRules(str(name), **rules))
    rows = len(frame)
    return DataSchema(tuple(columns), rows // 2, rows * 2, True, data)


def _infer_column(series: pd.Series, name: str, column_type: Any, plain: Any) -> dict[str, Any]:
    """The rules one column passes. A type is written only when every value passes its check
    (mixed or exotic columns — text and numbers, durations, decimals, bytes — get none)."""
    import math

    import pandas as pd

    from keel.checks.data_check import type_errors

    values = series.dropna()
    null = series.isna().to_numpy()
    kind: str | None = column_type(series)
    if kind is not None and type_errors(series, kind, null).any():
        kind = None
    rules: dict[str, Any] = {"type": kind, "nullable": bool(len(values) < len(series))}
    if not len(values):
        return rules
    if kind in ("integer", "float"):
        numbers = pd.to_numeric(values)
        finite = numbers[numbers.abs() != math.inf] if kind == "float" else numbers
        if len(finite):
            rules["min"], rules["max"] = plain(finite.min()), plain(finite.max())
    elif kind == "datetime":
        stamps = pd.to_datetime(values, utc=True).dt.tz_convert(None)
        rules["min"], rules["max"] = stamps.min(), stamps.max()
    elif kind == "string":
        distinct = values.nunique()
        if distinct <= MAX_CATEGORIES and distinct * 2 <= len(values):
            rules["categories"] = tuple(sorted(str(v) for v in values.unique()))
    if kind in ("integer", "string") and _ID_NAME.search(name) and len(values) > 1 and values.is_unique:
        rules["unique"] = True
    return rules


def render_schema(schema: DataSchema, source: str, rows: int) -> str:
    """The schema as a commented YAML file that is easy to edit."""
    from keel.core.yaml_file import safe_dump

    today = datetime.now(UTC).date().isoformat()
    lines = [
        f"# Keel data schema, inferred from {source} ({rows:,} rows) on {today}.",
        "# Edit it: tighten or loosen the rules, then check data with",
        f"#   keel check data {schema.data or source} --schema THIS_FILE",
        "# Column rules: type (integer, float, boolean, string, datetime); nullable: true, or",
        "# max_null_fraction: 0.01; min and max; categories: [allowed values]; unique: true;",
        "# pattern: a regular expression strings must match; mostly: 0.99 lets 1% of values fail",
        "# a rule; severity: warn reports a failure without failing the check.",
        f"format: {FORMAT}",
    ]
    if schema.data:
        lines.append(f"data: {safe_dump(schema.data).strip()}")
    lines.append(
        f"rows: {{min: {schema.rows_min}, max: {schema.rows_max}}}  # inferred: half to twice the rows seen"
    )
    lines.append("strict: true  # a column not listed below fails the check")
    lines.append("severity: fail  # or warn: report failures without failing")
    lines.append("columns:")
    for column in schema.columns:
        body = column.to_dict()
        for key in ("min", "max"):
            if isinstance(body.get(key), datetime):
                body[key] = body[key].isoformat()
        key = _yaml_key(column.name)
        rules = safe_dump(body, default_flow_style=True, width=10_000, allow_unicode=True).strip()
        lines.append(f"  {key}: {rules}")
    return "\n".join(lines) + "\n"
