"""Per-column drift tests: a current table against the sketch of a reference table.

:func:`detect_drift` reads each reference column of the current table once, in the
reference's kind, and runs one test on its non-null values (missing values are reported as
``current_missing``, not tested: a rise in nulls is a data-quality finding, and the drift
tests compare what is there). The test is chosen by the column's kind and the sample sizes:

=============  ==========================================  ==================================
kind           either side has ≤ 1,000 non-null values      both have more
=============  ==========================================  ==================================
numeric        ``ks``: drift when p < 0.05                  ``wasserstein``: drift when ≥ 0.1
categorical    ``chisquare``: drift when p < 0.05           ``jensenshannon``: drift when ≥ 0.1 (*)
boolean        ``z``: drift when p < 0.05                   ``jensenshannon``: drift when ≥ 0.1 (*)
datetime       not tested (time moves on between the reference and the current data)
text           not tested (free text: every value is new)
=============  ==========================================  ==================================

On small samples a significance test is the right tool: a real change of a few percent is
lost in the noise, and the test says how surprising the difference is. On large samples every
difference is significant, so a p-value flags drift nobody would act on; a *distance* with a
fixed threshold measures how large the change is whatever the sample size.

(*) Only once the sample is large enough for the distance. Sampling noise alone moves the
Jensen–Shannon distance by about ``sqrt(χ²(B - 1) · (1/n + 1/m) / (8 ln 2))`` for ``B``
categories: for 30 categories and a thousand values a side that *averages* 0.1, and two thirds
of undrifted columns would be flagged. So a categorical or boolean column keeps its
significance test until the 99th percentile of that noise is under the threshold
(:func:`js_noise`): from about 1,800 values a side for 30 categories and 8,900 for 200; a
boolean or a column of a few categories switches at 1,000. (Numbers need no such rule: at
1,001 values a side the Wasserstein distance flags 2–6% of undrifted columns, and fewer as
samples grow.)

Per column, ``tests={"age": "psi"}`` picks another test and ``thresholds={"age": 0.3}``
another threshold (for the column's test, whichever it is).

The tests (:data:`TESTS`), each against the reference sketch, never the reference rows:

- ``ks`` (numeric, datetime): the two-sample Kolmogorov–Smirnov statistic ``D = max |F_ref −
  F_cur|``, evaluated at every sketch knot and current value (exact on the current side; the
  sketch is within ``1/(resolution - 1)`` of the reference's distribution, and exact for a
  reference of at most ``resolution`` values). The p-value is the Kolmogorov distribution's
  for the effective size ``n·m/(n+m)`` (``scipy.stats.kstwo``; above 5,000 its limit
  ``kstwobign``, which differs by under 1% there, where ``kstwo`` gets slow), as scipy's
  asymptotic ``ks_2samp`` does.
- ``chisquare`` (categorical, boolean, text): Pearson's chi-square test of homogeneity of the
  2 × B table of reference and current counts over the reference's categories plus one
  "other/new" bucket (``scipy.stats.chi2_contingency``). Empty buckets are dropped, and buckets
  whose expected count is under 5 on either side are pooled into one (the usual validity rule;
  a pool still under 5 joins the smallest bucket): a long tail of rare categories raises no
  false alarms, and a new category frequent enough to matter keeps "other/new" to itself. A
  goodness-of-fit test of the current counts against the reference *proportions* would take
  the reference as exact: with both sides of one size its statistic is twice its nominal
  distribution, and it flags about half of all undrifted columns. The homogeneity test counts
  the reference's own sampling noise, and equals the goodness-of-fit test when the reference is
  much larger than the current data.
- ``z`` (boolean, or a categorical column of two categories): the two-proportion z-test on the
  share of ``True`` (or of the reference's most frequent category), pooled standard error.
- ``wasserstein`` (numeric, datetime): the Wasserstein-1 distance ``∫ |Q_ref − Q_cur| dp``
  between the reference sketch and the current values, divided by the reference's standard
  deviation, so a mean shift of ``d`` standard deviations scores ``d``. Exact for a reference
  kept whole; otherwise exact for the sketch between its second and second-to-last points,
  the outermost ``1/(resolution - 1)`` of each tail left out (see :func:`_wasserstein`: the
  sketch cannot say where the mass of the last cell of a long tail lies). When the reference is
  constant (std 0) the score is 0 if every current value is that constant and 1 otherwise.
- ``jensenshannon`` (categorical, boolean, text): the Jensen–Shannon distance (base 2, between 0
  and 1; ``scipy.spatial.distance.jensenshannon``) between the category shares, "other/new"
  included.
- ``psi`` (any kind): the population stability index over the reference's deciles (numbers and
  times, from the sketch; ties merge buckets) or its categories plus "other/new" (see
  :class:`keel.checks.compare.PSI`, which ``keel check compare`` runs over 20 buckets); drift
  at ≥ 0.2.

A column with no values in the current data is drifted when the reference had values (and
vice versa), as is one whose current values do not read in the reference's kind (text in a
numeric column); a reference column missing from the current table is reported skipped
("missing from the current data") and drifted: a vanished column is a change. These count in
``drift_share = drifted / counted``, where *counted* are the columns tested plus these; a
column skipped for its kind, or with no values on either side, counts in neither.

Each :class:`ColumnDrift` carries plot data for a report: for numbers a histogram of 30 equal
bins spanning the reference's 0.5%–99.5% quantiles (widened to the current's), with the share
of each side's values per bin (from the sketch for the reference; values beyond the span are
left out); for categories the shares of the 20 categories largest on either side and of the
rest ("(other)"). Everything is plain JSON: numbers, strings, lists, None.

Cost: one sort of each current numeric column (``ks`` and ``wasserstein`` need it for exact
answers), then a few linear passes; one ``value_counts`` per categorical column; columns on a
few threads for a large table. A million rows by twenty columns (15 numeric, 5 categorical)
take about 0.7 s on two cores, on top of the sketch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from keel.checks.columns import column_names, map_columns, read_numbers
from keel.checks.compare import PSI, CurrentColumn
from keel.checks.results import finite_or_none
from keel.checks.sketch import (
    QUANTILE_KINDS,
    ColumnSketch,
    TableSketch,
    category_counts,
    knot_cdf,
    read_seconds,
)
from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: At most this many non-null values on either side: a significance test; more: a distance.
SMALL_SAMPLE = 1_000
SHARE_THRESHOLD = 0.5
#: Above this effective sample size the KS p-value uses the limiting distribution.
KS_EXACT_LIMIT = 5_000
#: Categories use jensenshannon only if sampling noise stays under its threshold this often.
NOISE_QUANTILE = 0.99
#: Chi-square buckets with a smaller expected count are pooled.
MIN_EXPECTED = 5.0
PLOT_BINS = 30
PLOT_CATEGORIES = 20
PLOT_SPAN = (0.005, 0.995)
OTHER_LABEL = "(other)"
MISSING = "missing from the current data"
NO_CURRENT_VALUES = "no non-null values in the current data"
NO_REFERENCE_VALUES = "no non-null values in the reference"
NO_VALUES = "no non-null values in either table"
UNREADABLE = {
    "numeric": "no current value reads as a finite number",
    "datetime": "no current value reads as a date and time (ISO 8601)",
}
NOT_TESTED = {
    "datetime": "datetime columns are not tested by default (time moves on); pick a test with tests=",
    "text": "text columns are not tested by default (every value is new); pick a test with tests=",
}


@dataclass(frozen=True, eq=False, kw_only=True)
class CurrentSample(CurrentColumn):
    """One current column read in its reference's kind, as the tests and plots need it: the
    finite values (numeric and datetime references, here sorted) or the counts per reference
    category then "other/new" (category references), and more."""

    rows: int
    nulls: int
    #: category references: the most frequent current values and their counts
    top: tuple[tuple[str, int], ...] = ()

    @property
    def size(self) -> int:
        """How many values the tests compare."""
        if self.values is not None:
            return len(self.values)
        return int(self.buckets.sum()) if self.buckets is not None else 0


def read_current(reference: ColumnSketch, series: pd.Series) -> CurrentSample:
    """``series`` read in the kind of ``reference`` (values that do not read count as null)."""
    import numpy as np

    rows = len(series)
    if reference.kind in QUANTILE_KINDS:
        numbers = read_seconds(series) if reference.kind == "datetime" else read_numbers(series)[0]
        nulls = int(np.count_nonzero(np.isnan(numbers)))
        return CurrentSample(rows=rows, nulls=nulls, values=np.sort(numbers[np.isfinite(numbers)]))
    keys, counts = category_counts(series)
    top = tuple(
        (key, int(count)) for key, count in zip(keys[:PLOT_CATEGORIES], counts[:PLOT_CATEGORIES], strict=True)
    )
    return CurrentSample(
        rows=rows, nulls=rows - int(counts.sum()), buckets=reference.align(keys, counts), top=top
    )


class DriftTest:
    """A drift test: ``score`` a current column against a reference sketch.

    ``stat`` says how to read the score: a ``p_value`` drifts below the threshold, a
    ``distance`` at or above it.
    """

    name: ClassVar[str]
    stat: ClassVar[str]
    #: the kinds of reference column the test applies to
    kinds: ClassVar[tuple[str, ...]]
    threshold: float = 0.05

    def __init__(self, threshold: float | None = None) -> None:
        if threshold is not None:
            self.threshold = check_threshold(self, threshold)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold!r})"

    def fits(self, reference: ColumnSketch) -> bool:
        return reference.kind in self.kinds

    def drifted(self, score: float) -> bool:
        return score < self.threshold if self.stat == "p_value" else score >= self.threshold

    def score(self, reference: ColumnSketch, current: pd.Series) -> float:
        """The score of ``current`` (nulls left out) against ``reference``."""
        if not self.fits(reference):
            raise InvalidInput(_misfit(self, reference))
        sample = read_current(reference, current)
        if not sample.size or not reference.values:
            raise InvalidInput(
                f"Cannot run {self.name} on column {reference.name!r}: "
                f"{'the current data' if reference.values else 'the reference'} has no values; "
                "give a column with non-null values."
            )
        return self.measure(reference, sample)

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        """The score of a column already read (both sides have values)."""
        raise NotImplementedError


class KSTest(DriftTest):
    name = "ks"
    stat = "p_value"
    kinds = QUANTILE_KINDS
    threshold = 0.05

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        from scipy.stats import kstwo, kstwobign  # type: ignore[import-untyped]

        statistic = _cdf_gaps(reference, _values(sample)).ks
        n, m = reference.finite, sample.size
        effective = n * m / (n + m)
        if effective > KS_EXACT_LIMIT:
            p = float(kstwobign.sf(statistic * math.sqrt(effective)))
        else:
            p = float(kstwo.sf(statistic, max(1, round(effective))))
        return min(max(p, 0.0), 1.0)


class ChiSquareTest(DriftTest):
    name = "chisquare"
    stat = "p_value"
    kinds = ("categorical", "boolean", "text")
    threshold = 0.05

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        import numpy as np
        from scipy.stats import chi2_contingency

        table = np.vstack((reference.buckets(), _buckets(sample))).astype(np.float64)
        table = table[:, table.sum(axis=0) > 0]
        totals = table.sum(axis=1)
        expected = table.sum(axis=0) / totals.sum() * totals.min()  # in the smaller row
        rare = expected < MIN_EXPECTED
        pooled = table[:, ~rare]
        if rare.any():
            pool = table[:, rare].sum(axis=1)
            if pooled.shape[1] and pool.sum() / totals.sum() * totals.min() < MIN_EXPECTED:
                smallest = int(np.argmin(pooled.sum(axis=0)))  # a pool still too small joins a bucket
                pooled = pooled.copy()
                pooled[:, smallest] += pool
            else:
                pooled = np.column_stack((pooled, pool))
        if pooled.shape[1] < 2:
            return 1.0
        result = chi2_contingency(pooled, correction=False)
        return min(max(float(result.pvalue), 0.0), 1.0)


class ZTest(DriftTest):
    name = "z"
    stat = "p_value"
    kinds = ("boolean",)
    threshold = 0.05

    def fits(self, reference: ColumnSketch) -> bool:
        binary = reference.kind == "categorical" and len(reference.categories) <= 2 and not reference.other
        return reference.kind == "boolean" or binary

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        keys = list(reference.categories)
        if not keys:
            return 1.0
        position = keys.index("True") if "True" in keys else 0
        n, m = reference.count, sample.size
        x1 = reference.categories[keys[position]]
        x2 = int(_buckets(sample)[position])
        pooled = (x1 + x2) / (n + m)
        error = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
        if error == 0:
            return 1.0
        z = (x2 / m - x1 / n) / error
        return min(max(math.erfc(abs(z) / math.sqrt(2)), 0.0), 1.0)


class WassersteinTest(DriftTest):
    name = "wasserstein"
    stat = "distance"
    kinds = QUANTILE_KINDS
    threshold = 0.1

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        values = _values(sample)
        if not reference.std:  # a constant reference: any other value is a change
            return 0.0 if values[0] == values[-1] == reference.min else 1.0
        return _wasserstein(reference, values) / reference.std


class JensenShannonTest(DriftTest):
    name = "jensenshannon"
    stat = "distance"
    kinds = ("categorical", "boolean", "text")
    threshold = 0.1

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        import numpy as np
        from scipy.spatial.distance import jensenshannon  # type: ignore[import-untyped]

        expected = reference.buckets().astype(np.float64)
        actual = _buckets(sample).astype(np.float64)
        with np.errstate(invalid="ignore"):
            distance = float(jensenshannon(expected / expected.sum(), actual / actual.sum(), base=2))
        return min(max(distance, 0.0), 1.0) if math.isfinite(distance) else 0.0


class PSITest(DriftTest):
    name = "psi"
    stat = "distance"
    kinds = ("numeric", "datetime", "categorical", "boolean", "text")
    threshold = 0.2
    #: reference quantile buckets for numbers
    buckets = 10

    def measure(self, reference: ColumnSketch, sample: CurrentSample) -> float:
        score = PSI(self.threshold, buckets=self.buckets).score(reference, sample)
        return 0.0 if score is None else float(score)


#: The drift tests by name.
TESTS: dict[str, type[DriftTest]] = {
    test.name: test for test in (KSTest, ChiSquareTest, ZTest, WassersteinTest, JensenShannonTest, PSITest)
}


def default_test(reference: ColumnSketch, current_values: int) -> str | None:
    """The test for a column (see the module's table); None when it is not tested."""
    small = min(reference.values, current_values) <= SMALL_SAMPLE
    if reference.kind == "numeric":
        return "ks" if small else "wasserstein"
    if reference.kind in ("categorical", "boolean"):
        if small or js_noise(reference, current_values) >= JensenShannonTest.threshold:
            return "chisquare" if reference.kind == "categorical" else "z"
        return "jensenshannon"
    return None


def js_noise(reference: ColumnSketch, current_values: int, quantile: float = NOISE_QUANTILE) -> float:
    """The Jensen–Shannon distance that sampling alone exceeds with probability ``1 - quantile``.

    For two samples of one distribution over ``B`` buckets the divergence (bits) is about
    ``χ²(B - 1) · (1/n + 1/m) / (8 ln 2)``: the distance grows with the number of categories,
    and at a thousand values a column of 30 categories already averages 0.1.
    """
    from scipy.stats import chi2

    buckets = len(reference.categories) + (1 if reference.other else 0)
    n, m = reference.count, current_values
    if buckets < 2 or not n or not m:
        return 0.0
    spread = float(chi2.ppf(quantile, buckets - 1))
    return math.sqrt(spread * (1 / n + 1 / m) / (8 * math.log(2)))


def check_threshold(test: DriftTest | type[DriftTest], value: Any, column: str | None = None) -> float:
    """``value`` as a threshold for ``test``: a number, a p-value in (0, 1) or a distance ≥ 0."""
    where = f" for column {column!r}" if column is not None else ""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"The {test.name} threshold{where} must be a number, not {value!r}.")
    if test.stat == "p_value" and not 0 < value < 1:
        raise InvalidInput(
            f"The {test.name} threshold{where} is a p-value: give a number between 0 and 1 (e.g. 0.05), not {value!r}."
        )
    if test.stat == "distance" and value < 0:
        raise InvalidInput(
            f"The {test.name} threshold{where} is a distance: give a number ≥ 0, not {value!r}."
        )
    return float(value)


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    #: the test run (or that would have run); None when the column is not tested
    test: str | None
    #: "p_value" or "distance", as the test's
    stat: str | None
    score: float | None
    threshold: float | None
    drifted: bool
    reference_rows: int
    current_rows: int
    #: null fractions
    reference_missing: float
    current_missing: float
    #: why no test ran (see the module), else None
    skipped: str | None = None
    #: plot data for a report (see the module), or None
    plot: dict[str, Any] | None = None
    #: the non-null (numbers: finite) values each side compared
    reference_values: int = 0
    current_values: int = 0

    @property
    def counted(self) -> bool:
        """Whether the column counts towards the drift share: tested, or changed for sure."""
        return self.skipped is None or self.drifted

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "stat": self.stat,
            "score": finite_or_none(self.score),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "reference_values": self.reference_values,
            "current_values": self.current_values,
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
            "skipped": self.skipped,
            "plot": self.plot,
        }


@dataclass(frozen=True)
class DriftResult:
    columns: list[ColumnDrift]
    reference_rows: int
    current_rows: int
    #: the dataset drifts when at least this share of the counted columns drift
    share_threshold: float = SHARE_THRESHOLD

    @property
    def drifted(self) -> int:
        return sum(1 for c in self.columns if c.drifted)

    @property
    def counted(self) -> int:
        """The columns with a verdict: tested, missing, or with values on one side only."""
        return sum(1 for c in self.columns if c.counted)

    @property
    def drift_share(self) -> float:
        return self.drifted / self.counted if self.counted else 0.0

    @property
    def dataset_drift(self) -> bool:
        return self.counted > 0 and self.drift_share >= self.share_threshold

    def column(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.column == name:
                return column
        raise InvalidInput(
            f"Column {name!r} is not in the drift result; choose from {', '.join(c.column for c in self.columns)}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "share_threshold": self.share_threshold,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "drifted_columns": self.drifted,
            "counted_columns": self.counted,
            "columns": [c.to_dict() for c in self.columns],
        }


def detect_drift(
    reference: TableSketch,
    current: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    share_threshold: float = SHARE_THRESHOLD,
) -> DriftResult:
    """Test each reference column (or ``columns``) of ``current`` for drift (see the module)."""
    import pandas as pd

    if not isinstance(reference, TableSketch):
        raise InvalidInput(f"The reference is {type(reference).__name__}; give a TableSketch (sketch_table).")
    if not isinstance(current, pd.DataFrame):
        raise InvalidInput(f"Cannot test {type(current).__name__} for drift; give a pandas DataFrame.")
    if len(current) == 0:
        raise InvalidInput(
            "The current table has no rows; test a table with at least one row "
            "(for serving data, a window that received requests)."
        )
    if (
        isinstance(share_threshold, bool)
        or not isinstance(share_threshold, int | float)
        or not 0 <= share_threshold <= 1
    ):
        raise InvalidInput(f"share_threshold must be a fraction between 0 and 1, not {share_threshold!r}.")
    if columns is None:
        names = reference.names
    else:
        names = [columns] if isinstance(columns, str) else list(columns)
        for name in names:
            reference.column(name)  # raises naming the known columns
    chosen = _overrides(reference, tests, thresholds)
    positions = {name: i for i, name in enumerate(column_names(current))}
    if not any(name in positions for name in names):
        raise InvalidInput(
            f"The current table has none of the reference columns ({', '.join(repr(n) for n in names[:8])}"
            f"{' …' if len(names) > 8 else ''}); give a table with the reference's columns."
        )
    rows = len(current)
    jobs = [
        (reference.columns[n], current.iloc[:, positions[n]] if n in positions else None, chosen.get(n))
        for n in names
    ]
    results = map_columns(lambda job: _column_drift(job[0], job[1], job[2], rows), jobs, cells=current.size)
    return DriftResult(results, reference.rows, rows, float(share_threshold))


def _overrides(
    reference: TableSketch, tests: Mapping[str, str] | None, thresholds: Mapping[str, float] | None
) -> dict[str, tuple[str | None, float | None]]:
    """Per column: the test name and threshold asked for (None: the default), checked."""
    chosen: dict[str, tuple[str | None, float | None]] = {}
    for label, given in (("tests", tests), ("thresholds", thresholds)):
        for name in given or {}:
            if name not in reference.columns:
                raise InvalidInput(
                    f"{label}= names column {name!r}, which the reference does not have; "
                    f"choose from {', '.join(repr(n) for n in reference.names[:10])}."
                )
    for name, test_name in (tests or {}).items():
        test = TESTS.get(test_name) if isinstance(test_name, str) else None
        if test is None:
            raise InvalidInput(
                f"Unknown drift test {test_name!r} for column {name!r}; use one of {', '.join(TESTS)}."
            )
        if not test().fits(reference.columns[name]):
            raise InvalidInput(_misfit(test(), reference.columns[name]))
        chosen[name] = (test_name, None)
    for name, value in (thresholds or {}).items():
        picked = chosen.get(name, (None, None))[0]
        if picked is not None:
            check_threshold(TESTS[picked], value, name)
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise InvalidInput(f"The threshold for column {name!r} must be a number ≥ 0, not {value!r}.")
        chosen[name] = (picked, float(value))
    return chosen


def _column_drift(
    reference: ColumnSketch,
    series: pd.Series | None,
    override: tuple[str | None, float | None] | None,
    rows: int,
) -> ColumnDrift:
    test_name, threshold = override or (None, None)
    base: dict[str, Any] = {
        "column": reference.name,
        "kind": reference.kind,
        "reference_rows": reference.rows,
        "current_rows": rows,
        "reference_missing": reference.missing,
        "reference_values": reference.values,
    }
    if series is None:
        return ColumnDrift(
            test=None,
            stat=None,
            score=None,
            threshold=None,
            drifted=True,
            current_missing=1.0,
            skipped=MISSING,
            **base,
        )
    sample = read_current(reference, series)
    missing = sample.nulls / rows
    test_name = test_name or default_test(reference, sample.size)
    plot = _plot(reference, sample) if reference.values else None
    if test_name is None:
        return ColumnDrift(
            test=None,
            stat=None,
            score=None,
            threshold=None,
            drifted=False,
            current_missing=missing,
            skipped=NOT_TESTED.get(reference.kind, "not tested"),
            plot=plot,
            current_values=sample.size,
            **base,
        )
    test = TESTS[test_name]()
    if threshold is not None:  # checked here for a default test: the test depends on the sizes
        test.threshold = check_threshold(test, threshold, reference.name)
    verdict: dict[str, Any] = {"test": test.name, "stat": test.stat, "threshold": test.threshold}
    if not reference.values or not sample.size:
        if not sample.size:
            skipped = NO_CURRENT_VALUES if reference.values else NO_VALUES
            if reference.kind in QUANTILE_KINDS and bool(series.notna().any()):
                skipped = UNREADABLE[reference.kind]  # values there, but none reads in the reference's kind
        else:
            skipped = NO_REFERENCE_VALUES
        return ColumnDrift(
            score=None,
            drifted=skipped != NO_VALUES,
            current_missing=missing,
            skipped=skipped,
            plot=plot,
            current_values=sample.size,
            **verdict,
            **base,
        )
    score = test.measure(reference, sample)
    return ColumnDrift(
        score=score,
        drifted=test.drifted(score),
        current_missing=missing,
        plot=plot,
        current_values=sample.size,
        **verdict,
        **base,
    )


@dataclass(frozen=True)
class _Gaps:
    ks: float
    w1: float


def _cdf_gaps(reference: ColumnSketch, values: npt.NDArray[np.float64]) -> _Gaps:
    """The sup and the integral of ``|F_ref − F_cur|`` for sorted finite ``values`` (not empty).

    Both functions are evaluated on the union of the sketch's knots and the current values:
    between two neighbours ``F_cur`` is constant and ``F_ref`` linear, so the largest gap is at
    an end of a piece and each piece's area has a closed form.
    """
    import numpy as np

    xs, fs = reference.knots()
    m = len(values)
    # How many current values are <= each current value (the last of equal values counts).
    last = np.append(values[1:] != values[:-1], True)
    ends = np.where(last, np.arange(m), m)
    at_or_below = np.minimum.accumulate(ends[::-1])[::-1] + 1
    where = np.searchsorted(values, xs, side="right")
    points = np.insert(values, where, xs)
    counts = np.insert(at_or_below, where, where)
    keep = np.append(points[1:] != points[:-1], True)
    points, counts = points[keep], counts[keep]
    current = counts / m
    right = knot_cdf(xs, fs, points, "right") - current  # at each point
    left = knot_cdf(xs, fs, points[1:], "left") - current[:-1]  # just before the next one
    ks = float(max(np.abs(right).max(), np.abs(left).max(initial=0.0)))
    return _Gaps(ks, float(np.sum(_area(right[:-1], left) * np.diff(points))))


def _wasserstein(reference: ColumnSketch, values: npt.NDArray[np.float64]) -> float:
    """``∫ |Q_ref − Q_cur| dp`` for sorted finite ``values``, over the sketch's inner levels.

    An exact sketch gives the exact distance (:func:`_cdf_gaps`). Otherwise the outermost cell
    of each tail (the lowest and highest ``1/(k - 1)`` of the reference) is left out and the
    integral divided by the rest: there the sketch knows only the cell's ends, the extreme
    value is far from the rest in a long tail, and reading the cell as linear would add its
    width times its mass to the distance (for a lognormal column, more than the threshold).

    ``Q_cur`` is a step per current value (step ``i`` spans levels ``(i/m, (i+1)/m]``), and
    each step's gap is taken at its middle: exact where ``Q_ref`` is linear and the gap keeps
    its sign over the step, off by at most ``Q_ref``'s rise over one step elsewhere (under
    1e-4 standard deviations at a thousand values, checked against the exact integral).
    """
    import numpy as np

    if reference.exact:
        return _cdf_gaps(reference, values).w1
    xs, fs = reference.knots()
    m = len(values)
    low, high = (float(fs[1]), float(fs[-2])) if len(fs) >= 4 else (0.0, 1.0)
    first, last = math.floor(low * m), min(m, math.ceil(high * m))
    middle = (np.arange(first, last, dtype=np.float64) + 0.5) / m
    width = np.full(len(middle), 1.0 / m)
    for end in {0, len(middle) - 1}:  # the two steps cut by the trimmed levels
        start, stop = max((first + end) / m, low), min((first + end + 1) / m, high)
        middle[end], width[end] = (start + stop) / 2, max(stop - start, 0.0)
    gaps = np.abs(np.interp(middle, fs, xs) - values[first:last])
    return float(np.dot(gaps, width) / (high - low))


def _area(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``∫_0^1 |a + (b - a) t| dt`` elementwise: the mean gap over a piece where it is linear."""
    import numpy as np

    area = np.abs(a + b) / 2  # right where the gap keeps its sign
    crossing = np.flatnonzero((a < 0) != (b < 0))
    if len(crossing):
        ca, cb = a[crossing], b[crossing]
        area[crossing] = (ca * ca + cb * cb) / (2 * (np.abs(ca) + np.abs(cb)))
    return np.asarray(area, dtype=np.float64)


def _plot(reference: ColumnSketch, sample: CurrentSample) -> dict[str, Any]:
    if reference.kind in QUANTILE_KINDS:
        return _histogram(reference, sample)
    return _bars(reference, sample)


def _histogram(reference: ColumnSketch, sample: CurrentSample) -> dict[str, Any]:
    import numpy as np

    values = _values(sample)
    low, high = (float(v) for v in reference.quantile(np.asarray(PLOT_SPAN)))
    if len(values):
        positions = np.rint(np.asarray(PLOT_SPAN) * (len(values) - 1)).astype(np.intp)
        low, high = min(low, float(values[positions[0]])), max(high, float(values[positions[1]]))
    edges = np.linspace(low, high, PLOT_BINS + 1) if high > low else np.array([low - 0.5, low + 0.5])
    below = reference.cdf(edges, "left")
    below[-1] = reference.cdf(edges[-1:], "right")[0]  # the last bin is closed, as in np.histogram
    expected = np.clip(np.diff(below), 0.0, 1.0)
    actual = np.zeros(len(edges) - 1)
    if len(values):
        under = np.searchsorted(values, edges, side="left")
        under[-1] = np.searchsorted(values, edges[-1], side="right")
        actual = np.diff(under) / len(values)
    return {
        "type": "histogram",
        "edges": [float(e) for e in edges],
        "reference": [float(f) for f in expected],
        "current": [float(f) for f in actual],
    }


def _bars(reference: ColumnSketch, sample: CurrentSample) -> dict[str, Any]:
    buckets = _buckets(sample)
    size = max(sample.size, 1)
    reference_share = {key: count / reference.count for key, count in reference.categories.items()}
    current_share = {
        key: int(count) / size for key, count in zip(reference.categories, buckets, strict=False)
    }
    for key, count in sample.top:
        current_share[key] = count / size
    candidates = list(dict.fromkeys([*reference_share, *current_share]))
    candidates.sort(key=lambda k: -max(reference_share.get(k, 0.0), current_share.get(k, 0.0)))
    shown = candidates[:PLOT_CATEGORIES]
    expected = [reference_share.get(k, 0.0) for k in shown]
    actual = [current_share.get(k, 0.0) for k in shown]
    return {
        "type": "bars",
        "categories": [*shown, OTHER_LABEL],
        "reference": [*expected, max(0.0, 1.0 - sum(expected))],
        "current": [*actual, max(0.0, 1.0 - sum(actual)) if sample.size else 0.0],
    }


def _buckets(sample: CurrentSample) -> npt.NDArray[np.int64]:
    if sample.buckets is None:
        raise InvalidInput("This test compares categories; the column was read as numbers.")
    return sample.buckets


def _values(sample: CurrentSample) -> npt.NDArray[np.float64]:
    if sample.values is None:
        raise InvalidInput("This test compares numbers; the column was read as categories.")
    return sample.values


def _misfit(test: DriftTest, reference: ColumnSketch) -> str:
    fitting = [name for name, cls in TESTS.items() if cls().fits(reference)]
    return (
        f"Test {test.name!r} does not fit {reference.kind} column {reference.name!r}; "
        f"use {', '.join(repr(n) for n in fitting) or 'no test'} for it."
    )
