"""Table profiles: what a reference table looked like, computed once and kept as JSON.

A train/serve check compares a current table with the *profile* of a reference table rather
than with the table itself, so the reference is read once (when a model is trained, say) and
only its profile is stored. Per column a profile holds the row and null counts and, by kind:

- ``numeric``: min, max, mean and (population) std of the finite values, and equal-frequency
  buckets — the deduplicated quantile edges ``e0 … ek`` of the finite values (``bins + 1``
  quantiles, method "lower", so every edge is a reference value) and the count in
  each bucket ``(-inf, e0], (e0, e1], …, (ek-1, ek], (ek, +inf)``. Ties go to the lower
  bucket, so a column of a few distinct values keeps one bucket per frequent value (a constant
  column has one edge, one bucket), and the two outer buckets catch what lies outside the
  reference's range (in the reference they hold only its minimum, and any infinities).
- ``categorical`` and ``boolean``: the counts of the ``max_categories`` most frequent values,
  as strings, and an ``other`` count for the rest (0 when every distinct value was kept).
- ``datetime``: min and max as POSIX seconds (tz-naive values read as UTC).

Every statistic is a vectorized NumPy/pandas pass over a column (one sort for a numeric column,
one ``value_counts`` for a categorical one), columns on a few threads for a large table (the
NumPy and pandas kernels release the GIL), so a million rows by twenty columns profile in well
under two seconds. ``to_dict``/``from_dict`` round-trip through JSON: plain Python types,
``None`` where there is no value (never NaN).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: The kinds of column a profile knows.
KINDS = ("numeric", "categorical", "boolean", "datetime")
#: The version of the ``to_dict`` layout.
FORMAT = 1
#: Tables of at least this many cells are profiled and compared on up to MAX_THREADS threads.
PARALLEL_CELLS = 1_000_000
MAX_THREADS = 8

_Job = TypeVar("_Job")
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    rows: int
    nulls: int
    #: numeric: over the finite values; datetime: POSIX seconds
    min: float | None = None
    max: float | None = None
    #: numeric only
    mean: float | None = None
    std: float | None = None
    #: numeric only: the bucket edges, and ``len(edges) + 1`` bucket counts (see the module)
    edges: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    #: categorical and boolean: the most frequent values (as strings) and their counts, most
    #: frequent first; ``other`` counts the non-null values of every other category
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 0
    #: categorical and boolean: how many distinct values the reference had
    distinct: int | None = None

    @property
    def present(self) -> int:
        """How many values were not null."""
        return self.rows - self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def complete(self) -> bool:
        """Whether ``categories`` holds every category the reference had (no "other" bucket)."""
        return self.kind in ("categorical", "boolean") and self.other == 0

    def bucket_counts(self) -> tuple[int, ...]:
        """The reference count per bucket: numeric buckets, or each category then "other"."""
        if self.kind == "numeric":
            return self.counts
        if self.kind in ("categorical", "boolean"):
            return (*self.categories.values(), self.other)
        return ()

    def bucket_labels(self) -> tuple[str, ...]:
        """A label per bucket of :meth:`bucket_counts`, for reports."""
        if self.kind == "numeric":
            if not self.edges:
                return ("(-inf, +inf)",)
            bounds = ["-inf", *(f"{e:g}" for e in self.edges), "+inf"]
            return tuple(
                f"({low}, {high}]" if high != "+inf" else f"({low}, +inf)"
                for low, high in itertools.pairwise(bounds)
            )
        if self.kind in ("categorical", "boolean"):
            return (*self.categories, "(other)")
        return ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "rows": self.rows,
            "nulls": self.nulls,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "edges": list(self.edges),
            "counts": list(self.counts),
            "categories": dict(self.categories),
            "other": self.other,
            "distinct": self.distinct,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ColumnProfile:
        try:
            profile = cls(
                name=str(body["name"]),
                kind=str(body["kind"]),
                rows=int(body["rows"]),
                nulls=int(body["nulls"]),
                min=optional_float(body.get("min")),
                max=optional_float(body.get("max")),
                mean=optional_float(body.get("mean")),
                std=optional_float(body.get("std")),
                edges=tuple(float(e) for e in body.get("edges") or ()),
                counts=tuple(int(c) for c in body.get("counts") or ()),
                categories={str(k): int(v) for k, v in (body.get("categories") or {}).items()},
                other=int(body.get("other") or 0),
                distinct=None if body.get("distinct") is None else int(body["distinct"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"A column profile is incomplete or malformed ({exc!r}); give name, kind, rows and nulls."
            ) from None
        if profile.kind not in KINDS:
            raise InvalidInput(
                f"Column profile {profile.name!r} has kind {profile.kind!r}; use one of {', '.join(KINDS)}."
            )
        if profile.kind == "numeric" and len(profile.counts) != len(profile.edges) + 1:
            raise InvalidInput(
                f"Column profile {profile.name!r} has {len(profile.counts)} bucket counts for "
                f"{len(profile.edges)} edges; a numeric profile needs one more count than edges."
            )
        return profile


@dataclass(frozen=True)
class TableProfile:
    rows: int
    #: by column name, in the reference's column order
    columns: dict[str, ColumnProfile]
    bins: int = 20
    max_categories: int = 50

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def column(self, name: str) -> ColumnProfile:
        try:
            return self.columns[name]
        except KeyError:
            raise InvalidInput(
                f"Column {name!r} is not in the reference profile; choose from {listing(self.names)}."
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "bins": self.bins,
            "max_categories": self.max_categories,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> TableProfile:
        try:
            version = int(body.get("format", FORMAT))
            if version > FORMAT:
                raise InvalidInput(
                    f"The profile has format {version}, newer than this Keel reads ({FORMAT}); upgrade Keel."
                )
            columns = [ColumnProfile.from_dict(c) for c in body["columns"]]
            return cls(
                rows=int(body["rows"]),
                columns={c.name: c for c in columns},
                bins=int(body.get("bins", 20)),
                max_categories=int(body.get("max_categories", 50)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"The table profile is incomplete or malformed ({exc!r}); give rows and columns: [...]."
            ) from None


def profile_table(frame: pd.DataFrame, *, bins: int = 20, max_categories: int = 50) -> TableProfile:
    """The profile of ``frame``: per column its kind, nulls and distribution (see the module)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"Cannot profile {type(frame).__name__}; give a pandas DataFrame.")
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise InvalidInput(f"bins must be a whole number of at least 1, not {bins!r}.")
    if isinstance(max_categories, bool) or not isinstance(max_categories, int) or max_categories < 1:
        raise InvalidInput(f"max_categories must be a whole number of at least 1, not {max_categories!r}.")
    if len(frame) == 0:
        raise InvalidInput("The reference table has no rows; profile a table with at least one row.")
    names = column_names(frame)
    jobs = [(name, frame.iloc[:, position]) for position, name in enumerate(names)]
    profiles = map_columns(
        lambda job: profile_column(job[0], job[1], bins=bins, max_categories=max_categories),
        jobs,
        cells=frame.size,
    )
    return TableProfile(len(frame), {p.name: p for p in profiles}, bins, max_categories)


def profile_column(
    name: str, series: pd.Series, *, bins: int = 20, max_categories: int = 50
) -> ColumnProfile:
    """The profile of one column (``profile_table`` does the argument checks)."""
    kind = column_kind(series)
    rows = len(series)
    if kind == "numeric":
        values, _ = read_numbers(series)
        return _numeric_profile(name, values, bins)
    if kind == "datetime":
        return _datetime_profile(name, series)
    counts = value_counts(series)
    present = int(counts.sum())
    categories: dict[str, int] = {}
    top = counts.iloc[:max_categories]
    # Distinct raw values can print the same (1 and "1" in an object column): add them up.
    for key, count in zip(top.index.astype(str).tolist(), top.to_numpy().tolist(), strict=True):
        categories[key] = categories.get(key, 0) + int(count)
    return ColumnProfile(
        name,
        kind,
        rows,
        rows - present,
        categories=categories,
        other=present - sum(categories.values()),
        distinct=len(counts),
    )


def map_columns(work: Callable[[_Job], _Result], jobs: Sequence[_Job], *, cells: int) -> list[_Result]:
    """``[work(job) for job in jobs]``, on a few threads when there is enough data to gain.

    NumPy's sort and searchsorted and pandas' hashing release the GIL, so columns profile
    (or compare) in parallel; results keep the order of ``jobs``.
    """
    workers = min(len(jobs), os.cpu_count() or 1, MAX_THREADS)
    if workers < 2 or cells < PARALLEL_CELLS:
        return [work(job) for job in jobs]
    with ThreadPoolExecutor(workers, thread_name_prefix="keel-profile") as pool:
        return list(pool.map(work, jobs))


def column_names(frame: pd.DataFrame) -> list[str]:
    """The frame's column names as strings; raise if two are the same."""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"The table has more than one column named {listing(repeated)}; rename them.")
    return names


def column_kind(series: pd.Series) -> str:
    """``numeric``, ``boolean``, ``datetime`` or ``categorical`` (everything else)."""
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "numeric"
    if types.is_object_dtype(dtype):
        inferred = types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        if inferred in ("datetime", "datetime64", "date"):
            return "datetime"
    return "categorical"


def read_numbers(series: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The column as float64 (NaN for nulls and unreadable values) and a mask of the unreadable.

    Numbers and booleans (as 0 and 1) are taken as they are; anything else goes through
    ``pd.to_numeric(errors="coerce")``, and a non-null value it cannot read is "unreadable".
    """
    import numpy as np
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if not isinstance(dtype, pd.CategoricalDtype) and (
        types.is_bool_dtype(dtype) or (types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype))
    ):
        values = np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return values, np.zeros(len(values), dtype=np.bool_)
    nulls = np.asarray(series.isna().to_numpy(), dtype=np.bool_)
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return np.full(len(series), np.nan), ~nulls
    source = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
    try:
        coerced = pd.to_numeric(source, errors="coerce")
        values = np.asarray(pd.Series(coerced).to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(len(series), np.nan), ~nulls
    return values, np.isnan(values) & ~nulls


def value_counts(series: pd.Series) -> pd.Series:
    """Non-null value counts, most frequent first (categories that never occur left out)."""
    import pandas as pd

    counts = series.value_counts(dropna=True, sort=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts.to_numpy() > 0]
    return counts


def numeric_buckets(edges: tuple[float, ...], values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """How many of ``values`` (no NaN) fall in each bucket of ``edges`` (see the module)."""
    import numpy as np

    index = np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")
    return np.bincount(index, minlength=len(edges) + 1).astype(np.int64)


def _numeric_profile(name: str, values: npt.NDArray[np.float64], bins: int) -> ColumnProfile:
    import numpy as np

    rows = len(values)
    present = np.sort(values[~np.isnan(values)])  # -inf first, +inf last
    low = int(np.searchsorted(present, -np.inf, side="right"))
    high = int(np.searchsorted(present, np.inf, side="left"))
    finite = present[low:high]
    nulls = rows - len(present)
    if not len(finite):
        return ColumnProfile(name, "numeric", rows, nulls, counts=(len(present),))
    edges = tuple(float(e) for e in np.unique(_sorted_quantiles(finite, bins)))
    # Bucket i holds the values in (edges[i-1], edges[i]]: count those <= each edge, then take differences.
    at_or_below = np.searchsorted(present, np.asarray(edges), side="right")
    counts = np.diff(np.concatenate(([0], at_or_below, [len(present)])))
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(np.mean(finite))
        std = float(np.std(finite))
    return ColumnProfile(
        name,
        "numeric",
        rows,
        nulls,
        min=float(finite[0]),
        max=float(finite[-1]),
        mean=mean if math.isfinite(mean) else None,
        std=std if math.isfinite(std) else None,
        edges=edges,
        counts=tuple(int(c) for c in counts),
    )


def _sorted_quantiles(ordered: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.float64]:
    """``np.quantile(ordered, linspace(0, 1, bins + 1), method="lower")`` for data already sorted.

    "lower" rather than interpolated: every edge is a value the reference had, so a column of
    a few distinct values gets those values as edges and no empty buckets between them.
    """
    import numpy as np

    position = np.floor(np.linspace(0.0, 1.0, bins + 1) * (len(ordered) - 1)).astype(np.intp)
    return np.asarray(ordered[position], dtype=np.float64)


def _datetime_profile(name: str, series: pd.Series) -> ColumnProfile:
    import pandas as pd

    rows = len(series)
    if not isinstance(series.dtype, pd.DatetimeTZDtype) and series.dtype.kind != "M":
        series = pd.to_datetime(series, errors="coerce", utc=True)
    present = series.dropna()
    if not len(present):
        return ColumnProfile(name, "datetime", rows, rows)
    return ColumnProfile(
        name,
        "datetime",
        rows,
        rows - len(present),
        min=float(pd.Timestamp(present.min()).timestamp()),
        max=float(pd.Timestamp(present.max()).timestamp()),
    )


def optional_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def listing(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" … ({len(names) - limit} more)" if len(names) > limit else "") if names else "(none)"
