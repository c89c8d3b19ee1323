"""Train/serve checks: a current table compared with the sketch of a reference table.

The reference is summarized by its :class:`~keel.checks.sketch.TableSketch`, the summary
monitoring uses too (and, inside a project, the same one, cached per dataset version:
:mod:`keel.checks.sketch_cache`). :func:`compare_to_sketch` reads each reference column of
the current table once, in the reference's kind, and applies the rules to it:

- ``missing_column`` — the column is gone (fails; nothing else is checked for it);
- ``type_changed`` — no current value can be read as the reference's kind (numbers for a
  numeric column, booleans for a boolean one, dates for a datetime one); the other value rules
  are then skipped. A numeric column is read with ``pd.to_numeric(errors="coerce")``, and the
  values that fail to parse count as out of range rather than as a type change;
- ``missing_rate`` — the null fraction rose by more than ``max_missing_increase`` (absolute);
- ``out_of_range`` (numeric) — the fraction of non-null values outside the reference's
  ``[min, max]``;
- ``new_categories`` (categorical, boolean) — the fraction of non-null values in categories
  the reference never had; only when the sketch kept every reference category (at most
  :data:`~keel.checks.sketch.MAX_CATEGORIES` of them, nothing in "other");
- ``distribution`` — one finding per :class:`DistributionTest`, by default the population
  stability index (:class:`PSI`) over 20 equal-frequency buckets of the reference (numbers)
  or its categories plus "other/new".

``missing_column`` and ``type_changed`` findings appear only when they fail (value 1.0,
threshold 0.0); the measured rules report every column they apply to, passed or not, so a
report shows what was checked. A rule measuring a fraction of non-null values is skipped for a
column with none (``missing_rate`` reports that). Datetime columns get ``missing_rate`` and
``type_changed`` only: time moves on between training and serving, so their range and
distribution are expected to differ. Text columns (free text, see the sketch) get
``missing_rate`` only: every value is new. Columns only in the current table are ignored.

Monitoring's data-quality findings are these rules at their default limits, without the
distribution test (drift monitoring has its own tests).

A current table with no rows raises :class:`~keel.core.errors.InvalidInput`: there is
nothing to measure, and a check that passed on no data would hide a broken feed. So does a
reference of no rows: every value would be new to it.

A drift engine plugs in more tests by implementing :class:`DistributionTest`: each gets the
reference :class:`~keel.checks.sketch.ColumnSketch` and a :class:`CurrentColumn` — the
current finite values of a numeric column, or the current counts over a categorical
column's buckets. Everything is vectorized (one ``searchsorted`` or one ``value_counts`` per
column, columns on a few threads for a large table): a million rows by twenty columns compare
in well under two seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from keel.checks.columns import column_kind, column_names, map_columns, read_numbers
from keel.checks.sketch import QUANTILE_KINDS, ColumnSketch, TableSketch, category_counts, numeric_buckets
from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

RULES = ("missing_column", "type_changed", "missing_rate", "out_of_range", "new_categories", "distribution")
#: Offending values a finding shows.
SAMPLES = 5


@dataclass(frozen=True)
class Finding:
    column: str
    rule: str
    passed: bool
    #: what was measured: a fraction (missing_rate: the increase of the null fraction), a
    #: test's score, or 1.0 for a structural finding (missing_column, type_changed)
    value: float
    #: the largest passing value (0.0 for structural findings)
    threshold: float
    message: str
    #: up to SAMPLES offending current values, as plain Python values
    samples: tuple[Any, ...] = ()
    #: the distribution test's name, for rule "distribution"
    test: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "rule": self.rule,
            "passed": self.passed,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "samples": [_json_safe(s) for s in self.samples],
            "test": self.test,
        }


@dataclass(frozen=True, eq=False)
class CurrentColumn:
    """One current column read against its reference sketch, as a distribution test sees it."""

    #: numeric and datetime references: the current finite values; else None
    values: npt.NDArray[np.float64] | None = None
    #: category references: the current count per reference category, then "other/new"
    #: (aligned with ``ColumnSketch.buckets()``); else None
    buckets: npt.NDArray[np.int64] | None = None


@runtime_checkable
class DistributionTest(Protocol):
    """How far a current column's distribution is from the reference's (higher is further)."""

    @property
    def name(self) -> str: ...

    @property
    def threshold(self) -> float:
        """The largest score that passes."""
        ...

    def score(self, reference: ColumnSketch, current: CurrentColumn) -> float | None:
        """The score, or None when the test does not apply to this column."""
        ...


@dataclass(frozen=True)
class PSI:
    """Population stability index over the reference's buckets.

    Numbers: ``buckets`` equal-frequency buckets cut at the reference's quantiles
    (:meth:`~keel.checks.sketch.ColumnSketch.quantile_buckets`), the reference's share in each
    from its sketch; categories: each reference category, then "other/new". The score is
    ``sum((c - r) * ln(c / r))`` over the buckets, with ``r`` and ``c`` the reference and
    current fractions, each at least ``epsilon`` so an empty bucket scores high but finite.
    Rule of thumb: under 0.1 stable, 0.1–0.2 a moderate shift, above 0.2 a significant one.
    None (not applicable) when either side has no values to bucket.
    """

    threshold: float = 0.2
    epsilon: float = 1e-4
    buckets: int = 20
    name: str = "PSI"

    def score(self, reference: ColumnSketch, current: CurrentColumn) -> float | None:
        if reference.kind in QUANTILE_KINDS:
            if current.values is None:
                return None
            cuts, expected = reference.quantile_buckets(self.buckets)
            return population_stability_index(
                expected, numeric_buckets(cuts, current.values), epsilon=self.epsilon
            )
        if current.buckets is None:
            return None
        return population_stability_index(reference.buckets(), current.buckets, epsilon=self.epsilon)


def population_stability_index(
    expected: Sequence[float] | npt.NDArray[Any],
    actual: Sequence[float] | npt.NDArray[Any],
    *,
    epsilon: float = 1e-4,
) -> float | None:
    """The PSI of bucket counts (or shares) ``actual`` against ``expected``; None if either has
    no values."""
    import numpy as np

    reference = np.asarray(expected, dtype=np.float64)
    current = np.asarray(actual, dtype=np.float64)
    if reference.shape != current.shape:
        raise InvalidInput(
            f"Cannot compare {current.size} bucket counts with {reference.size}; give one count per bucket."
        )
    if reference.sum() <= 0 or current.sum() <= 0:
        return None
    r = np.maximum(reference / reference.sum(), epsilon)
    c = np.maximum(current / current.sum(), epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


@dataclass(frozen=True)
class CompareOptions:
    #: the largest allowed increase of a column's null fraction (absolute: 0.05 = 5 points)
    max_missing_increase: float = 0.05
    #: the largest allowed fraction of non-null numeric values outside the reference's range
    max_out_of_range: float = 0.01
    #: the largest allowed fraction of non-null values in categories the reference never had
    max_new_categories: float = 0.0
    #: the PSI threshold of the default distribution test
    psi_threshold: float = 0.2
    #: compare only these reference columns (default: all)
    columns: Sequence[str] | None = None
    #: the distribution tests (default: PSI at ``psi_threshold``; ``()`` for none)
    tests: Sequence[DistributionTest] | None = None

    def __post_init__(self) -> None:
        for name in ("max_missing_increase", "max_out_of_range", "max_new_categories", "psi_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise InvalidInput(f"{name} must be a number of at least 0, not {value!r}.")

    def distribution_tests(self) -> tuple[DistributionTest, ...]:
        return tuple(self.tests) if self.tests is not None else (PSI(self.psi_threshold),)


def compare_to_sketch(
    reference: TableSketch, current: pd.DataFrame, *, options: CompareOptions | None = None
) -> list[Finding]:
    """Every finding of the rules (see the module) for ``current`` against ``reference``."""
    import pandas as pd

    options = options or CompareOptions()
    if not isinstance(reference, TableSketch):
        raise InvalidInput(f"The reference is {type(reference).__name__}; give a TableSketch (sketch_table).")
    if not isinstance(current, pd.DataFrame):
        raise InvalidInput(f"Cannot compare {type(current).__name__}; give a pandas DataFrame.")
    if reference.rows == 0:
        raise InvalidInput("The reference table has no rows; compare with a table of at least one row.")
    if len(current) == 0:
        raise InvalidInput(
            "The current table has no rows; compare a table with at least one row "
            "(for serving data, a window that received requests)."
        )
    if options.columns is None:
        names = reference.names
    else:
        names = [options.columns] if isinstance(options.columns, str) else list(options.columns)
        for name in names:
            reference.column(name)  # raises naming the known columns
    positions = {name: i for i, name in enumerate(column_names(current))}
    tests = options.distribution_tests()
    jobs = [(reference.columns[n], current.iloc[:, positions[n]] if n in positions else None) for n in names]
    results = map_columns(lambda job: _compare_job(job[0], job[1], options, tests), jobs, cells=current.size)
    return [finding for findings in results for finding in findings]


def _compare_job(
    reference: ColumnSketch,
    series: pd.Series | None,
    options: CompareOptions,
    tests: Sequence[DistributionTest],
) -> list[Finding]:
    if series is None:
        message = f"Column {reference.name!r} is in the reference but not in the current table."
        return [Finding(reference.name, "missing_column", False, 1.0, 0.0, message)]
    return compare_column(reference, series, options, tests)


def compare_column(
    reference: ColumnSketch,
    series: pd.Series,
    options: CompareOptions,
    tests: Sequence[DistributionTest] | None = None,
) -> list[Finding]:
    """The findings for one current column against its reference sketch."""
    tests = options.distribution_tests() if tests is None else tests
    if reference.kind == "numeric":
        return _numeric(reference, series, options, tests)
    if reference.kind == "datetime":
        return _datetime(reference, series, options)
    if reference.kind == "text":
        return [_missing_rate(reference, int(series.isna().sum()), len(series), options)]
    return _categorical(reference, series, options, tests)


def _numeric(
    reference: ColumnSketch, series: pd.Series, options: CompareOptions, tests: Sequence[DistributionTest]
) -> list[Finding]:
    import numpy as np

    rows = len(series)
    values, unreadable = read_numbers(series)
    missing = np.isnan(values)
    nulls = int(np.count_nonzero(missing & ~unreadable))
    findings = [_missing_rate(reference, nulls, rows, options)]
    present = rows - nulls
    if not present:
        return findings
    bad = int(np.count_nonzero(unreadable))
    if bad == present:
        return [_type_changed(reference, series, unreadable, "a number"), *findings]
    if reference.min is None or reference.max is None:
        outside = ~missing
        where = "the reference had no finite values"
    else:
        outside = (values < reference.min) | (values > reference.max)  # False for NaN
        where = f"the reference range [{reference.min:g}, {reference.max:g}]"
    offending = outside | unreadable
    count = int(np.count_nonzero(offending))
    samples = _row_samples(series, offending)
    fraction = count / present
    passed = fraction <= options.max_out_of_range
    examples = _examples(samples, "; e.g. ")
    unparsed = f", {bad} of them not numbers" if bad else ""
    findings.append(
        Finding(
            reference.name,
            "out_of_range",
            passed,
            fraction,
            options.max_out_of_range,
            f"Column {reference.name!r} has {_percent(fraction)} of its values outside {where}{unparsed}, "
            f"{'within' if passed else 'above'} the limit of {_percent(options.max_out_of_range)}{examples}.",
            samples,
        )
    )
    finite = values[np.isfinite(values)]
    findings.extend(_distribution(reference, CurrentColumn(values=finite), tests))
    return findings


def _categorical(
    reference: ColumnSketch, series: pd.Series, options: CompareOptions, tests: Sequence[DistributionTest]
) -> list[Finding]:
    import numpy as np

    rows = len(series)
    if reference.kind == "boolean" and column_kind(series) in ("numeric", "datetime"):
        nulls = int(series.isna().sum())
        finding = _missing_rate(reference, nulls, rows, options)
        if nulls == rows:
            return [finding]
        readable = np.asarray(series.notna().to_numpy(), dtype=np.bool_)
        return [_type_changed(reference, series, readable, "a boolean"), finding]
    keys, counts = category_counts(series)
    present = int(counts.sum())
    findings = [_missing_rate(reference, rows - present, rows, options)]
    if not present:
        return findings
    buckets = reference.align(keys, counts)
    if reference.complete:
        fraction = int(buckets[-1]) / present
        passed = fraction <= options.max_new_categories
        samples = tuple(itertools.islice((k for k in keys if k not in reference.categories), SAMPLES))
        examples = _examples(samples, "; e.g. ")
        findings.append(
            Finding(
                reference.name,
                "new_categories",
                passed,
                fraction,
                options.max_new_categories,
                f"Column {reference.name!r} has {_percent(fraction)} of its values in categories the "
                f"reference never had, {'within' if passed else 'above'} the limit of "
                f"{_percent(options.max_new_categories)}{examples}.",
                samples,
            )
        )
    findings.extend(_distribution(reference, CurrentColumn(buckets=buckets), tests))
    return findings


def _datetime(reference: ColumnSketch, series: pd.Series, options: CompareOptions) -> list[Finding]:
    import numpy as np
    import pandas as pd

    rows = len(series)
    nulls_mask = np.asarray(series.isna().to_numpy(), dtype=np.bool_)
    nulls = int(np.count_nonzero(nulls_mask))
    findings = [_missing_rate(reference, nulls, rows, options)]
    kind = column_kind(series)
    if kind == "datetime" or nulls == rows:
        return findings
    readable = 0
    if kind == "categorical":
        try:
            parsed = pd.to_datetime(series.astype(object), errors="coerce", utc=True, format="ISO8601")
            readable = int(parsed.notna().sum())
        except (TypeError, ValueError, OverflowError):
            readable = 0
    if readable:
        return findings
    return [_type_changed(reference, series, ~nulls_mask, "a date and time"), *findings]


def _missing_rate(reference: ColumnSketch, nulls: int, rows: int, options: CompareOptions) -> Finding:
    now = nulls / rows
    before = reference.missing
    increase = now - before
    passed = increase <= options.max_missing_increase
    return Finding(
        reference.name,
        "missing_rate",
        passed,
        increase,
        options.max_missing_increase,
        f"Column {reference.name!r} is {_percent(now)} null against {_percent(before)} in the reference, "
        f"a change of {_points(increase)}, {'within' if passed else 'above'} the limit of "
        f"{_points(options.max_missing_increase)}.",
    )


def _examples(samples: Sequence[Any], before: str, after: str = "") -> str:
    """Sample values for a message: numbers to 6 significant digits, text quoted."""
    if not samples:
        return ""
    shown = [f"{s:.6g}" if isinstance(s, float) else repr(s) for s in samples]
    return f"{before}{', '.join(shown)}{after}"


def _type_changed(reference: ColumnSketch, series: pd.Series, unreadable: Any, wanted: str) -> Finding:
    samples = _row_samples(series, unreadable)
    examples = _examples(samples, " (e.g. ", ")")
    return Finding(
        reference.name,
        "type_changed",
        False,
        1.0,
        0.0,
        f"Column {reference.name!r} was {reference.kind} in the reference but none of its current values "
        f"reads as {wanted}{examples}.",
        samples,
    )


def _distribution(
    reference: ColumnSketch, current: CurrentColumn, tests: Sequence[DistributionTest]
) -> list[Finding]:
    findings = []
    for test in tests:
        score = test.score(reference, current)
        if score is None:
            continue
        passed = score <= test.threshold
        findings.append(
            Finding(
                reference.name,
                "distribution",
                passed,
                score,
                test.threshold,
                f"Column {reference.name!r} has a {test.name} of {score:.3g} against the reference, "
                f"{'within' if passed else 'above'} the limit of {test.threshold:g}.",
                test=test.name,
            )
        )
    return findings


def _row_samples(series: pd.Series, mask: Any) -> tuple[Any, ...]:
    """Up to SAMPLES distinct values of ``series`` where ``mask`` is true, in row order."""
    import numpy as np

    samples: list[Any] = []
    seen: set[str] = set()
    for value in series.iloc[np.flatnonzero(mask)[: SAMPLES * 20]].tolist():
        key = repr(value)
        if key not in seen:
            seen.add(key)
            samples.append(_plain(value))
        if len(samples) == SAMPLES:
            break
    return tuple(samples)


def _plain(value: Any) -> Any:
    """A NumPy or pandas scalar as a plain Python value (timestamps as ISO 8601 text)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    item = getattr(value, "item", None)
    if callable(item):
        return _plain(item())
    return str(value)


def _json_safe(value: Any) -> Any:
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g}%"


def _points(change: float) -> str:
    points = change * 100
    return f"{'+' if points > 0 else ''}{points:.3g} percentage points"
