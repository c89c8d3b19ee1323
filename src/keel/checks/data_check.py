"""Validating a table against a :class:`~keel.checks.schema.DataSchema`, column by column.

Every rule is one vectorized pass over a column (pandas/NumPy masks; no loop over rows), so a
million rows by twenty columns validate in well under two seconds. A rule's failing values
are counted, turned into a fraction of the non-null values, compared with ``mostly``, and
sampled (row position and value) for the report.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from keel.checks.results import SAMPLES, CheckReport, RuleResult
from keel.checks.schema import ColumnRules, DataSchema

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def validate_frame(frame: pd.DataFrame, schema: DataSchema, *, subject: str = "<frame>") -> CheckReport:
    """Check ``frame`` against ``schema``; every rule's result is in the report."""
    started = time.perf_counter()
    report = CheckReport("data", schema.source, subject)
    rows = len(frame)
    report.measured["rows"] = float(rows)
    if schema.rows_min is not None or schema.rows_max is not None:
        low = schema.rows_min if schema.rows_min is not None else 0
        high = schema.rows_max
        ok = rows >= low and (high is None or rows <= high)
        band = f"{low:,}–{high:,}" if high is not None else f"at least {low:,}"
        report.results.append(
            RuleResult("rows", ok, f"{rows:,} rows; the schema expects {band}", severity=schema.severity)
        )
    given = [str(c) for c in frame.columns]
    if len(set(given)) != len(given):
        twice = sorted({c for c in given if given.count(c) > 1})
        report.results.append(
            RuleResult("duplicate_column", False, f"column {twice[0]!r} appears more than once", twice[0])
        )
    for column in schema.columns:
        if column.name not in given:
            report.results.append(
                RuleResult(
                    "missing_column",
                    False,
                    f"column {column.name!r} is missing",
                    column.name,
                    severity=column.severity,
                )
            )
            continue
        position = given.index(column.name)  # the first, if the name is duplicated
        series = frame.iloc[:, position]
        report.results.extend(_check_column(series, column, rows))
    if schema.strict:
        listed = {c.name for c in schema.columns}
        for name in given:
            if name not in listed:
                report.results.append(
                    RuleResult(
                        "unexpected_column",
                        False,
                        f"column {name!r} is not in the schema (add it, or set strict: false)",
                        name,
                        severity=schema.severity,
                    )
                )
    report.duration = time.perf_counter() - started
    return report


def _check_column(series: pd.Series, rules: ColumnRules, rows: int) -> list[RuleResult]:
    import numpy as np

    out: list[RuleResult] = []
    name = rules.name
    null = series.isna().to_numpy()
    nulls = int(null.sum())
    present = rows - nulls

    def result(rule: str, bad: np.ndarray, message: str, mostly: float = rules.mostly) -> None:
        failing = int(bad.sum())
        passed = failing <= (1.0 - mostly) * present + 1e-9
        if failing:
            text = f"{name}: {failing:,} of {present:,} values ({failing / present:.2%}) {message}"
            if mostly < 1.0:
                text += f"; mostly: {mostly} allows {1 - mostly:.2%}"
        else:
            text = f"{name}: {rule} ok"
        samples = _samples(series, bad) if failing else []
        out.append(RuleResult(rule, passed, text, name, failing, present, samples, rules.severity))

    # nulls
    if rules.max_null_fraction is not None:
        share = nulls / rows if rows else 0.0
        ok = share <= rules.max_null_fraction + 1e-12
        out.append(
            RuleResult(
                "max_null_fraction",
                ok,
                f"{name}: {share:.2%} nulls ({nulls:,} of {rows:,}); at most {rules.max_null_fraction:.2%} allowed",
                name,
                nulls,
                rows,
                [],
                rules.severity,
                share,
            )
        )
    elif not rules.nullable:
        out.append(
            RuleResult(
                "not_null",
                nulls == 0,
                f"{name}: {nulls:,} of {rows:,} values ({nulls / rows:.2%}) are null"
                if nulls
                else f"{name}: no nulls",
                name,
                nulls,
                rows,
                _samples(series, null) if nulls else [],
                rules.severity,
            )
        )
    bad_type = type_errors(series, rules.type, null)
    if rules.type is not None:
        result("type", bad_type, f"are not {rules.type}")
    usable = ~null & ~bad_type
    if rules.min is not None or rules.max is not None:
        values = _comparable(series, rules.type)
        for key, bound in (("min", rules.min), ("max", rules.max)):
            if bound is None:
                continue
            try:
                with np.errstate(invalid="ignore"):
                    outside = (values < bound) if key == "min" else (values > bound)
            except TypeError:  # e.g. a date bound on a column of numbers, with no type to say which
                out.append(
                    RuleResult(
                        key,
                        False,
                        f"{name}: {key} {bound} cannot be compared with this column's values; "
                        "give the column a type (or a bound of the same kind)",
                        name,
                        present,
                        present,
                        [],
                        rules.severity,
                    )
                )
                continue
            if hasattr(outside, "to_numpy"):  # a pandas comparison (nullable integers: NA is not outside)
                outside = outside.to_numpy(dtype=bool, na_value=False)
            bad = np.asarray(outside, dtype=bool) & usable
            word = "below" if key == "min" else "above"
            result(key, bad, f"are {word} {key} {bound}")
    if rules.categories is not None:
        allowed = _category_mask(series, rules.categories)
        result(
            "categories", ~allowed & ~null, f"are not one of the {len(rules.categories)} allowed categories"
        )
    if rules.pattern is not None:
        text = series.astype("string")
        matched = text.str.fullmatch(rules.pattern).fillna(False).to_numpy(dtype=bool)
        result("pattern", ~matched & ~null, f"do not match pattern {rules.pattern!r}")
    if rules.unique:
        duplicated = series.duplicated(keep=False).to_numpy() & ~null
        result("unique", duplicated, "are duplicates", mostly=1.0)
    return out


def type_errors(series: pd.Series, kind: str | None, null: np.ndarray) -> np.ndarray:
    """The mask of non-null values that are not of ``kind`` (vectorized where the dtype allows)."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    none = np.zeros(len(series), dtype=bool)
    if kind is None:
        return none
    if kind in ("integer", "float"):
        if pd.api.types.is_bool_dtype(dtype):
            return ~null
        if pd.api.types.is_integer_dtype(dtype):
            return none
        if pd.api.types.is_numeric_dtype(dtype):
            numbers = series.to_numpy(dtype=float, na_value=np.nan)
        elif _is_object(dtype):  # numbers among other things: only real numbers pass (not "3", not True)
            is_number = series.map(
                lambda v: (
                    isinstance(v, int | float | np.integer | np.floating)
                    and not isinstance(v, bool | np.bool_)
                ),
                na_action="ignore",
            ).fillna(False)
            numbers = pd.to_numeric(series.where(is_number.astype(bool)), errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
        else:  # text, dates, durations…
            return np.asarray(~null, dtype=bool)
        bad: np.ndarray = np.isnan(numbers) & ~null
        if kind == "integer":
            with np.errstate(invalid="ignore"):
                whole = np.isfinite(numbers) & (np.floor(numbers) == numbers)
            return np.asarray(bad | (~whole & ~null), dtype=bool)
        return np.asarray(bad | np.isinf(numbers), dtype=bool)
    if kind == "boolean":
        if pd.api.types.is_bool_dtype(dtype):
            return none
        ok = series.map(lambda v: isinstance(v, bool | np.bool_), na_action="ignore").fillna(False)
        return np.asarray(~ok.to_numpy(dtype=bool) & ~null, dtype=bool)
    if kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return none
        if pd.api.types.is_numeric_dtype(dtype):
            return ~null
        stamps = pd.to_datetime(series, errors="coerce", format="ISO8601", utc=True)
        return np.asarray(stamps.isna().to_numpy() & ~null, dtype=bool)
    # string
    if pd.api.types.is_string_dtype(dtype) and not _is_object(dtype):
        return none
    if _is_object(dtype):
        ok = series.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False)
        return np.asarray(~ok.to_numpy(dtype=bool) & ~null, dtype=bool)
    return ~null


def _comparable(series: pd.Series, kind: str | None) -> Any:
    """The column as values to compare with min/max: integers stay integers (exact above 2**53),
    floats as a float array, dates as naive timestamps; anything else parsed as numbers."""
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return series
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _naive(series).to_numpy()
    if kind == "datetime":
        return _naive(pd.to_datetime(series, errors="coerce", format="ISO8601", utc=True)).to_numpy()
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _is_object(dtype: Any) -> bool:
    return getattr(dtype, "kind", "") == "O" and not hasattr(dtype, "storage")


def _naive(series: pd.Series) -> pd.Series:
    tz = getattr(series.dt, "tz", None)
    return series.dt.tz_convert(None) if tz is not None else series


def _category_mask(series: pd.Series, categories: tuple[Any, ...]) -> np.ndarray:
    """Values in ``categories``. When the schema's categories and the column differ in kind
    (numbers listed for a text column, or quoted "1" for a number column), values also match
    by their text."""
    import pandas as pd

    allowed: np.ndarray = series.isin(list(categories)).to_numpy(dtype=bool, na_value=False)
    numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
    texts = [isinstance(c, str) for c in categories]
    if (numeric and any(texts)) or (not numeric and not all(texts)):
        text = [str(c) for c in categories]
        allowed = allowed | series.astype("string").isin(text).to_numpy(dtype=bool, na_value=False)
    return allowed


def _samples(series: pd.Series, bad: np.ndarray) -> list[dict[str, Any]]:
    import numpy as np

    from keel.models.signature import plain

    positions = np.flatnonzero(bad)[:SAMPLES]
    values = series.iloc[positions].tolist()
    out = []
    for position, value in zip(positions.tolist(), values, strict=True):
        value = plain(value)
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, float) and math.isnan(value):
            value = None
        out.append({"row": int(position), "value": value})
    return out
