"""Reference sketches: a table's distributions, computed once per dataset version, mergeable.

Keel's one summary of a reference table: ``keel check compare`` (:mod:`keel.checks.compare`)
and drift monitoring compare current data with the *sketch* of a reference table rather than
with the table itself, and keep it per dataset version (:mod:`keel.checks.sketch_cache`). A
sketch is small (a few kilobytes a column), stored as JSON, and mergeable:
the sketches of two parts of a table merge into a sketch of the whole, so a reference can be
built from daily partitions, or from the chunks of a table too large to read at once. Per
column (:class:`ColumnSketch`) it holds the non-null and null counts and, by kind:

- ``numeric`` and ``datetime`` (as POSIX seconds: tz-naive times read as UTC, text as ISO
  8601, numbers as seconds already): min, max, mean and population std of the finite values, and ``quantiles``: ``k = min(resolution, n)`` order
  statistics of the ``n`` finite values at evenly spaced ranks ``0, (n-1)/(k-1), …, n-1``
  (the nearest order statistic), so the first is the min and the last the max. They come from
  one sort of the column: exact, never from a sample. Infinities are counted (``infinite``)
  but kept out of the quantiles and moments.
- ``categorical``, ``boolean`` and ``text``: the counts of the ``max_categories`` most frequent
  values, as strings (integral floats print as integers, so ``1`` and ``1.0`` are one
  category), and ``other``, the count of every other value. ``text`` is a string column of
  many distinct long values (more than half the values distinct, mean length above 20): free
  text, which drift monitoring does not test by default (and ``keel check compare`` checks
  only for missing values). The rule applies only to inferred kinds: ``kinds={"note":
  "categorical"}`` keeps a column categorical.

Values that do not read in the column's kind (text in a numeric column) count as nulls.

**What the quantiles mean.** A sketch of ``n <= resolution`` values keeps every value: it is
*exact*, and its distribution function ``F`` is the empirical one, a step of ``1/n`` at each
value. A larger sketch is read as a piecewise-linear quantile function through the points
``(i / (k - 1), q_i)``, so ``F`` interpolates linearly between points (and jumps at repeated
points: a value that fills 30% of a column repeats in 30% of the points). Either way ``F`` is
within ``1 / (k - 1)`` of the column's empirical distribution at every point: within 0.4% at
the default resolution. :meth:`ColumnSketch.knots` gives ``F`` as knots, and ``cdf`` and
``quantile`` evaluate it and its inverse, vectorized.

**Merging.** Counts add up. Mean and std combine exactly (the parallel variance formula), min
and max exactly. Quantiles: the merged ``F`` is the mixture ``(n_a F_a + n_b F_b) / (n_a +
n_b)``, evaluated at the union of both sides' points, and the merged points are its inverse
at evenly spaced levels (two exact sketches that fit in the resolution are simply
concatenated, and stay exact). Categories add up; the ``max_categories`` most frequent are
kept and the rest join ``other``, so a value frequent in one part but in "other" in the
other part is undercounted: category counts are exact only while every part kept it. The
merge uses the smaller resolution and category limit of the two sides. A column with no
values in one part takes its kind from the other part; ``categorical`` merged with ``text``
is ``categorical``; other kind conflicts are refused (pass the same ``kinds=`` to both).

:func:`sketch_table` sorts each numeric column once and counts each other column with one
``value_counts``, columns on a few threads for a large table (the NumPy sort and pandas'
hashing release the GIL): a million rows by twenty columns in about 0.4 s on two cores.
``to_dict``/``from_dict`` round-trip through JSON: plain Python types, ``None`` where there
is no value (never NaN), and ``"format": 1``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.checks.columns import (
    column_kind,
    column_names,
    listing,
    map_columns,
    optional_float,
    read_numbers,
    value_counts,
)
from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: The kinds of column a sketch knows.
KINDS = ("numeric", "categorical", "boolean", "datetime", "text")
#: Kinds sketched as quantiles (the others as category counts).
QUANTILE_KINDS = ("numeric", "datetime")
#: The version of the ``to_dict`` layout.
FORMAT = 1
RESOLUTION = 256
MAX_CATEGORIES = 200
#: A string column is ``text`` when more than this share of its values are distinct…
TEXT_DISTINCT_RATIO = 0.5
#: …and its values are longer than this on average.
TEXT_MEAN_LENGTH = 20
#: Floats below this magnitude print as integers when they are whole (exact in float64).
_INTEGRAL_LIMIT = 2.0**53


@dataclass(frozen=True)
class ColumnSketch:
    name: str
    kind: str
    #: non-null values (numeric: including infinities)
    count: int
    nulls: int
    #: numeric and datetime: order statistics of the finite values, min first, max last
    quantiles: tuple[float, ...] = ()
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    #: numeric: how many of ``count`` are +inf or -inf
    infinite: int = 0
    #: categorical, boolean and text: the most frequent values (as strings) and their counts,
    #: most frequent first; ``other`` counts every other non-null value
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 0

    @property
    def rows(self) -> int:
        return self.count + self.nulls

    @property
    def finite(self) -> int:
        """How many values the quantiles and moments describe (numeric and datetime)."""
        return self.count - self.infinite

    @property
    def values(self) -> int:
        """How many values a drift test compares: the finite ones, or the non-null categories."""
        return self.finite if self.kind in QUANTILE_KINDS else self.count

    @property
    def missing(self) -> float:
        """The null fraction (0.0 for a column of no rows)."""
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def exact(self) -> bool:
        """Whether the quantiles hold every finite value (see the module)."""
        return self.kind in QUANTILE_KINDS and 0 < len(self.quantiles) == self.finite

    def knots(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The distribution function as knots ``(x, F)``, both non-decreasing; linear between.

        Exact sketches get two knots per value (``F`` steps from ``i/n`` to ``(i+1)/n``), others
        one knot per point at ``i / (k - 1)``. Empty for a column with no finite values.
        """
        import numpy as np

        points = np.asarray(self.quantiles, dtype=np.float64)
        k = len(points)
        if self.exact:
            levels = np.arange(k + 1, dtype=np.float64) / k
            return np.repeat(points, 2), np.column_stack((levels[:-1], levels[1:])).ravel()
        if k == 1:  # a sketch of resolution 1 is not made here, but read it as a point mass
            return np.repeat(points, 2), np.array([0.0, 1.0])
        return points, np.linspace(0.0, 1.0, k)

    def cdf(self, x: npt.ArrayLike, side: str = "right") -> npt.NDArray[np.float64]:
        """``F(x) = P(X <= x)`` (side "right") or its left limit ``P(X < x)`` (side "left")."""
        xs, fs = self.knots()
        return knot_cdf(xs, fs, x, side)

    def quantile(self, p: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The smallest ``x`` with ``F(x) >= p``, interpolated between knots."""
        xs, fs = self.knots()
        return knot_quantile(xs, fs, p)

    def quantile_buckets(self, buckets: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """``buckets`` equal-frequency buckets of the finite values: the cuts and each bucket's share.

        The cuts are the sketch's points at or just below the levels ``1/buckets, 2/buckets,
        …`` (within ``1/(resolution - 1)``; for an exact sketch the quantiles of method
        "lower"), so every cut is a value the column had, and deduplicated: a value that fills
        several buckets' worth of the column merges them, and a column of a few distinct
        values keeps about one bucket per frequent value (a constant one: two, the second
        empty). Bucket ``i`` holds the values in ``(cut[i-1], cut[i]]``, the first everything
        up to the first cut, the last everything above the last (see
        :func:`numeric_buckets`). The shares come from ``F`` (:meth:`cdf`), so they sum to 1;
        no cuts and one empty bucket for a column with no finite values.
        """
        import numpy as np

        if not self.quantiles:
            return np.zeros(0), np.zeros(1)
        points = np.asarray(self.quantiles, dtype=np.float64)
        levels = np.arange(1, buckets) / buckets
        cuts = np.unique(points[np.floor(levels * (len(points) - 1)).astype(np.intp)])
        below = self.cdf(cuts, "right")
        return cuts, np.diff(np.concatenate(([0.0], below, [1.0])))

    @property
    def complete(self) -> bool:
        """Whether ``categories`` holds every category the column had (nothing in ``other``)."""
        return self.kind not in QUANTILE_KINDS and self.other == 0

    def buckets(self) -> npt.NDArray[np.int64]:
        """The count of each category, then of ``other``."""
        import numpy as np

        return np.asarray([*self.categories.values(), self.other], dtype=np.int64)

    def align(self, keys: list[str], counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Another column's category counts (:func:`category_counts`) in this sketch's buckets:
        the count of each of its categories, then of every other value ("other/new")."""
        import numpy as np
        import pandas as pd

        known = list(self.categories)
        aligned = pd.Series(counts, index=pd.Index(keys, dtype=object)).reindex(known, fill_value=0)
        buckets = np.zeros(len(known) + 1, dtype=np.int64)
        buckets[:-1] = np.asarray(aligned.to_numpy(), dtype=np.int64)
        buckets[-1] = int(counts.sum()) - int(buckets[:-1].sum())
        return buckets

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "count": self.count,
            "nulls": self.nulls,
            "infinite": self.infinite,
            "quantiles": list(self.quantiles),
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "categories": dict(self.categories),
            "other": self.other,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> ColumnSketch:
        try:
            sketch = cls(
                name=str(body["name"]),
                kind=str(body["kind"]),
                count=int(body["count"]),
                nulls=int(body["nulls"]),
                quantiles=tuple(float(q) for q in body.get("quantiles") or ()),
                mean=optional_float(body.get("mean")),
                std=optional_float(body.get("std")),
                min=optional_float(body.get("min")),
                max=optional_float(body.get("max")),
                infinite=int(body.get("infinite") or 0),
                categories={str(k): int(v) for k, v in (body.get("categories") or {}).items()},
                other=int(body.get("other") or 0),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"A column sketch is incomplete or malformed ({exc!r}); give name, kind, count and nulls."
            ) from None
        if sketch.kind not in KINDS:
            raise InvalidInput(
                f"Column sketch {sketch.name!r} has kind {sketch.kind!r}; use one of {', '.join(KINDS)}."
            )
        points = sketch.quantiles
        if len(points) > max(sketch.finite, 0) or any(b < a for a, b in itertools.pairwise(points)):
            raise InvalidInput(
                f"Column sketch {sketch.name!r} has {len(points)} quantiles for {sketch.finite} finite "
                "values or quantiles out of order; re-sketch the reference."
            )
        return sketch


@dataclass(frozen=True)
class TableSketch:
    rows: int
    #: by column name, in the table's column order
    columns: dict[str, ColumnSketch]
    resolution: int = RESOLUTION
    max_categories: int = MAX_CATEGORIES

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def column(self, name: str) -> ColumnSketch:
        try:
            return self.columns[name]
        except KeyError:
            raise InvalidInput(
                f"Column {name!r} is not in the reference sketch; choose from {listing(self.names)}."
            ) from None

    def merge(self, other: TableSketch) -> TableSketch:
        """The sketch of both tables' rows together (see the module for what is exact)."""
        if not isinstance(other, TableSketch):
            raise InvalidInput(f"Cannot merge a sketch with {type(other).__name__}; give a TableSketch.")
        if set(self.columns) != set(other.columns):
            only_here = [n for n in self.columns if n not in other.columns]
            only_there = [n for n in other.columns if n not in self.columns]
            raise InvalidInput(
                f"The sketches have different columns (only in the first: {listing(only_here)}; only in "
                f"the second: {listing(only_there)}); sketch the parts with the same columns."
            )
        resolution = min(self.resolution, other.resolution)
        max_categories = min(self.max_categories, other.max_categories)
        columns = {
            name: merge_columns(
                column, other.columns[name], resolution=resolution, max_categories=max_categories
            )
            for name, column in self.columns.items()
        }
        return TableSketch(self.rows + other.rows, columns, resolution, max_categories)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "resolution": self.resolution,
            "max_categories": self.max_categories,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> TableSketch:
        if not isinstance(body, Mapping):
            raise InvalidInput(f"A table sketch is a JSON object, not {type(body).__name__}; re-sketch it.")
        version = body.get("format")
        if version != FORMAT or isinstance(version, bool):
            raise InvalidInput(
                f"The sketch has format {version!r}, which this Keel does not read (it reads {FORMAT}); "
                "re-sketch the reference or upgrade Keel."
            )
        try:
            columns = [ColumnSketch.from_dict(c) for c in body["columns"]]
            return cls(
                rows=int(body["rows"]),
                columns={c.name: c for c in columns},
                resolution=int(body.get("resolution", RESOLUTION)),
                max_categories=int(body.get("max_categories", MAX_CATEGORIES)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(
                f"The table sketch is incomplete or malformed ({exc!r}); give rows and columns: [...]."
            ) from None


def sketch_table(
    frame: pd.DataFrame,
    *,
    kinds: Mapping[str, str] | None = None,
    resolution: int = RESOLUTION,
    max_categories: int = MAX_CATEGORIES,
) -> TableSketch:
    """The sketch of ``frame`` (see the module); ``kinds`` overrides the inferred kind per column."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"Cannot sketch {type(frame).__name__}; give a pandas DataFrame.")
    _check_whole(resolution, "resolution", 2)
    _check_whole(max_categories, "max_categories", 1)
    names = column_names(frame)
    kinds = dict(kinds or {})
    for name, kind in kinds.items():
        if name not in names:
            raise InvalidInput(
                f"kinds= names column {name!r}, which the table does not have; choose from {listing(names)}."
            )
        if kind not in KINDS:
            raise InvalidInput(f"kinds= gives column {name!r} kind {kind!r}; use one of {', '.join(KINDS)}.")
    jobs = [(name, frame.iloc[:, position]) for position, name in enumerate(names)]
    sketches = map_columns(
        lambda job: sketch_column(
            job[0], job[1], kind=kinds.get(job[0]), resolution=resolution, max_categories=max_categories
        ),
        jobs,
        cells=frame.size,
    )
    return TableSketch(len(frame), {s.name: s for s in sketches}, resolution, max_categories)


def sketch_column(
    name: str,
    series: pd.Series,
    *,
    kind: str | None = None,
    resolution: int = RESOLUTION,
    max_categories: int = MAX_CATEGORIES,
) -> ColumnSketch:
    """The sketch of one column (``sketch_table`` does the argument checks)."""
    import numpy as np

    inferred = kind is None
    kind = kind or column_kind(series)
    if kind in QUANTILE_KINDS:
        values = read_seconds(series) if kind == "datetime" else read_numbers(series)[0]
        present = len(values) - int(np.count_nonzero(np.isnan(values)))
        ordered = np.sort(values)[:present]  # NaN sort last, -inf first
        return _quantile_sketch(name, kind, ordered, len(series), resolution)
    keys, counts = category_counts(series)
    present = int(counts.sum())
    if inferred and kind == "categorical" and _looks_like_text(series, keys, counts, present):
        kind = "text"
    top = min(max_categories, len(keys))
    return ColumnSketch(
        name,
        kind,
        present,
        len(series) - present,
        categories=dict(zip(keys[:top], (int(c) for c in counts[:top]), strict=True)),
        other=int(counts[top:].sum()),
    )


def merge_columns(
    a: ColumnSketch, b: ColumnSketch, *, resolution: int = RESOLUTION, max_categories: int = MAX_CATEGORIES
) -> ColumnSketch:
    """The sketch of both columns' values together (see the module)."""
    kind = _merged_kind(a, b)
    count, nulls = a.count + b.count, a.nulls + b.nulls
    if kind in QUANTILE_KINDS:
        if not a.finite or a.kind != kind:
            return _with_counts(b, kind, count, nulls, a.infinite + b.infinite)
        if not b.finite or b.kind != kind:
            return _with_counts(a, kind, count, nulls, a.infinite + b.infinite)
        return _merge_quantiles(a, b, kind, count, nulls, resolution)
    merged: dict[str, int] = {}
    for side in (a, b):
        if side.kind in QUANTILE_KINDS:
            continue  # a part with no values
        for key, tally in side.categories.items():
            merged[key] = merged.get(key, 0) + tally
    ranked = sorted(merged.items(), key=lambda item: -item[1])  # stable: ties keep first-seen order
    kept = dict(ranked[:max_categories])
    other = sum(s.other for s in (a, b) if s.kind not in QUANTILE_KINDS) + sum(
        t for _, t in ranked[max_categories:]
    )
    return ColumnSketch(a.name, kind, count, nulls, categories=kept, other=other)


def category_counts(series: pd.Series) -> tuple[list[str], npt.NDArray[np.int64]]:
    """The non-null values of ``series`` as string keys and their counts, most frequent first.

    Whole floats print as integers (a column of 1, 2, 3 reads the same with or without a null
    that made it float), and values that print the same are added up.
    """
    import numpy as np
    import pandas as pd

    counts = value_counts(series)
    index = counts.index
    if index.dtype.kind == "f" and len(index):
        numbers = np.asarray(index, dtype=np.float64)
        whole = (numbers == np.round(numbers)) & (np.abs(numbers) < _INTEGRAL_LIMIT)
        # value by value: 2.0 is "2" whatever else the sample holds, so keys match across samples
        as_ints = np.where(whole, numbers, 0).astype(np.int64).astype(str)
        keys = pd.Index(np.where(whole, as_ints, numbers.astype(str)))
    else:
        keys = index.astype(str)
    tallies = np.asarray(counts.to_numpy(), dtype=np.int64)
    if not keys.is_unique:
        summed = pd.Series(tallies, index=keys).groupby(level=0, sort=False).sum()
        summed = summed.sort_values(ascending=False, kind="stable")
        return [str(k) for k in summed.index], np.asarray(summed.to_numpy(), dtype=np.int64)
    return [str(k) for k in keys], tallies


def numeric_buckets(cuts: npt.NDArray[np.float64], values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """How many of ``values`` (no NaN, in any order) fall in each bucket of
    :meth:`ColumnSketch.quantile_buckets`: ``(-inf, c0], (c0, c1], …, (ck, +inf)``."""
    import numpy as np

    index = np.searchsorted(cuts, values, side="left")
    return np.bincount(index, minlength=len(cuts) + 1).astype(np.int64)


def read_seconds(series: pd.Series) -> npt.NDArray[np.float64]:
    """A date and time column as POSIX seconds, NaN for null or unreadable.

    Tz-naive times read as UTC, text as ISO 8601, and numbers as POSIX seconds already.
    """
    import numpy as np
    import pandas as pd
    from pandas.api import types

    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype):
        return read_numbers(series)[0]
    elif series.dtype.kind != "M":
        try:
            parsed = pd.Series(pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601"))
            series = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        except (TypeError, ValueError, OverflowError, AttributeError):
            return np.full(len(series), np.nan)
    stamps = np.asarray(series.to_numpy(dtype="datetime64[us]"))
    seconds = stamps.view(np.int64).astype(np.float64) / 1e6
    seconds[np.isnat(stamps)] = np.nan
    return seconds


def knot_cdf(
    xs: npt.NDArray[np.float64], fs: npt.NDArray[np.float64], x: npt.ArrayLike, side: str = "right"
) -> npt.NDArray[np.float64]:
    """The piecewise-linear distribution function through knots ``(xs, fs)`` at ``x``.

    Side "right" gives ``F(x)``; side "left" its left limit, which differs where knots repeat
    an ``x`` (a jump). 0 below the first knot, 1 above the last.
    """
    import numpy as np

    points = np.asarray(x, dtype=np.float64)
    k = len(xs)
    if not k:
        return np.zeros(points.shape)
    after = np.searchsorted(xs, points, side="right" if side == "right" else "left")
    low = np.clip(after - 1, 0, k - 1)
    high = np.clip(after, 0, k - 1)
    x0, x1, f0, f1 = xs[low], xs[high], fs[low], fs[high]
    width = x1 - x0
    fraction = np.divide(points - x0, width, out=np.zeros(points.shape), where=width > 0)
    value = f0 + (f1 - f0) * np.clip(fraction, 0.0, 1.0)
    return np.asarray(np.where(after == 0, 0.0, np.where(after == k, 1.0, value)), dtype=np.float64)


def knot_quantile(
    xs: npt.NDArray[np.float64], fs: npt.NDArray[np.float64], p: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """The inverse of :func:`knot_cdf`: the smallest ``x`` with ``F(x) >= p``, interpolated."""
    import numpy as np

    levels = np.asarray(p, dtype=np.float64)
    k = len(xs)
    if not k:
        return np.full(levels.shape, np.nan)
    after = np.searchsorted(fs, levels, side="left")
    low = np.clip(after - 1, 0, k - 1)
    high = np.clip(after, 0, k - 1)
    f0, f1, x0, x1 = fs[low], fs[high], xs[low], xs[high]
    rise = f1 - f0
    fraction = np.divide(levels - f0, rise, out=np.ones(levels.shape), where=rise > 0)
    value = x0 + (x1 - x0) * np.clip(fraction, 0.0, 1.0)
    return np.asarray(np.where(after == 0, xs[0], np.where(after >= k, xs[-1], value)), dtype=np.float64)


def _quantile_sketch(
    name: str, kind: str, ordered: npt.NDArray[np.float64], rows: int, resolution: int
) -> ColumnSketch:
    """The sketch of the sorted non-null values ``ordered`` of a column of ``rows`` rows."""
    import numpy as np

    present = len(ordered)
    low = int(np.searchsorted(ordered, -np.inf, side="right"))
    high = int(np.searchsorted(ordered, np.inf, side="left"))
    finite = ordered[low:high]
    n = len(finite)
    infinite = present - n
    if not n:
        return ColumnSketch(name, kind, present, rows - present, infinite=infinite)
    k = min(resolution, n)
    positions = np.rint(np.linspace(0.0, n - 1, k)).astype(np.intp)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(np.mean(finite))
        std = float(np.std(finite))
    return ColumnSketch(
        name,
        kind,
        present,
        rows - present,
        quantiles=tuple(finite[positions].tolist()),
        mean=mean if math.isfinite(mean) else None,
        std=std if math.isfinite(std) else None,
        min=float(finite[0]),
        max=float(finite[-1]),
        infinite=infinite,
    )


def _merge_quantiles(
    a: ColumnSketch, b: ColumnSketch, kind: str, count: int, nulls: int, resolution: int
) -> ColumnSketch:
    import numpy as np

    n = a.finite + b.finite
    if a.exact and b.exact and n <= resolution:
        points = np.sort(np.concatenate((np.asarray(a.quantiles), np.asarray(b.quantiles))))
    else:
        xa, fa = a.knots()
        xb, fb = b.knots()
        union = np.unique(np.concatenate((xa, xb)))
        wa = a.finite / n
        left = wa * knot_cdf(xa, fa, union, "left") + (1 - wa) * knot_cdf(xb, fb, union, "left")
        right = wa * knot_cdf(xa, fa, union, "right") + (1 - wa) * knot_cdf(xb, fb, union, "right")
        levels = np.maximum.accumulate(np.column_stack((left, right)).ravel())
        points = knot_quantile(np.repeat(union, 2), levels, np.linspace(0.0, 1.0, min(resolution, n)))
    low = min(_number(a.min), _number(b.min))
    high = max(_number(a.max), _number(b.max))
    points[0], points[-1] = low, high
    mean = std = None
    if a.mean is not None and b.mean is not None and a.std is not None and b.std is not None:
        delta = b.mean - a.mean
        mean = a.mean + delta * b.finite / n
        spread = a.std**2 * a.finite + b.std**2 * b.finite + delta**2 * a.finite * b.finite / n
        std = math.sqrt(max(spread, 0.0) / n)
    return ColumnSketch(
        a.name,
        kind,
        count,
        nulls,
        quantiles=tuple(np.maximum.accumulate(points).tolist()),
        mean=mean if mean is not None and math.isfinite(mean) else None,
        std=std if std is not None and math.isfinite(std) else None,
        min=low,
        max=high,
        infinite=a.infinite + b.infinite,
    )


def _merged_kind(a: ColumnSketch, b: ColumnSketch) -> str:
    if a.kind == b.kind:
        return a.kind
    if not a.count:
        return b.kind
    if not b.count:
        return a.kind
    if {a.kind, b.kind} == {"categorical", "text"}:
        return "categorical"
    raise InvalidInput(
        f"Column {a.name!r} is {a.kind} in one sketch and {b.kind} in the other; "
        "sketch both parts with the same kinds= to merge them."
    )


def _with_counts(side: ColumnSketch, kind: str, count: int, nulls: int, infinite: int) -> ColumnSketch:
    return ColumnSketch(
        side.name,
        kind,
        count,
        nulls,
        quantiles=side.quantiles,
        mean=side.mean,
        std=side.std,
        min=side.min,
        max=side.max,
        infinite=infinite,
    )


def _looks_like_text(series: pd.Series, keys: list[str], counts: npt.NDArray[np.int64], present: int) -> bool:
    import pandas as pd
    from pandas.api import types

    if not present or len(keys) <= TEXT_DISTINCT_RATIO * present:
        return False
    if isinstance(series.dtype, pd.CategoricalDtype) or not (
        types.is_string_dtype(series.dtype) and types.infer_dtype(series, skipna=True) == "string"
    ):
        return False
    lengths = pd.Index(keys).str.len().to_numpy()
    return float((lengths * counts).sum()) / present > TEXT_MEAN_LENGTH


def _check_whole(value: Any, name: str, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(f"{name} must be a whole number of at least {least}, not {value!r}.")


def _number(value: float | None) -> float:
    return math.nan if value is None else value
