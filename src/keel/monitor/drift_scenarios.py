"""Drift scenarios with a known truth: how often the default tests flag each kind of change.

:func:`make_table` draws a table of 15 numeric columns of varied shapes (normal, lognormal,
uniform, integer counts), 5 categorical columns (3 to 30 categories of unequal shares) and,
by default, 2 boolean ones; :func:`detection_rates` draws an undrifted reference and, per
trial, one current table per scenario, runs :func:`keel.monitor.drift.detect_drift` with its
defaults, and reports, per scenario and default test, the share of the changed columns the
test flagged:

- ``none``: an independent draw of the same distributions; the rate is the false-alarm rate
  over every column.
- ``mean_shift_0.1`` and ``mean_shift_0.5``: every numeric column moves by 0.1 or 0.5 of its
  standard deviation (integer counts: a Poisson rate raised so the mean moves as much).
- ``variance_x2``: every numeric column's variance doubles about its mean (integer counts: a
  negative binomial of the same mean and twice the variance).
- ``reweighting``: categorical shares reversed (50/30/20 becomes 20/30/50), boolean shares
  swapped (30% true becomes 70%).
- ``new_category``: 10% of each categorical column's values become a category the reference
  never had.
- ``missing_20``: 20% of every column's values go missing, completely at random. The tests
  compare non-null values, so their rate here is their false-alarm rate; the change shows
  in ``current_missing``.

It is the ground truth behind the thresholds in :mod:`keel.monitor.drift`, used by the
benchmarks and the tests.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SCENARIOS = (
    "none",
    "mean_shift_0.1",
    "mean_shift_0.5",
    "variance_x2",
    "reweighting",
    "new_category",
    "missing_20",
)
#: (name, family, two parameters): normal (mean, std), lognormal (log-mean, log-std),
#: uniform (low, high), counts (Poisson rate, unused)
NUMERIC = (
    ("normal_a", "normal", 0.0, 1.0),
    ("normal_b", "normal", 10.0, 2.0),
    ("normal_c", "normal", -5.0, 0.5),
    ("normal_d", "normal", 100.0, 15.0),
    ("lognormal_a", "lognormal", 0.0, 0.5),
    ("lognormal_b", "lognormal", 0.0, 1.0),
    ("lognormal_c", "lognormal", 1.0, 0.25),
    ("lognormal_d", "lognormal", 2.0, 0.75),
    ("uniform_a", "uniform", 0.0, 1.0),
    ("uniform_b", "uniform", -10.0, 10.0),
    ("uniform_c", "uniform", 100.0, 101.0),
    ("counts_a", "counts", 0.5, 0.0),
    ("counts_b", "counts", 3.0, 0.0),
    ("counts_c", "counts", 10.0, 0.0),
    ("counts_d", "counts", 50.0, 0.0),
)
#: categorical columns by their number of categories
CATEGORIES = (3, 5, 10, 20, 30)
#: boolean columns by their share of True
BOOLEANS = (0.3, 0.6)
NEW_SHARE = 0.1
MISSING_SHARE = 0.2


def make_table(
    rng: np.random.Generator,
    rows: int,
    scenario: str = "none",
    *,
    booleans: int = len(BOOLEANS),
    only: Collection[str] | None = None,
) -> pd.DataFrame:
    """A table of the columns above (or ``only`` those), drawn as ``scenario`` says."""
    import numpy as np
    import pandas as pd

    if scenario not in SCENARIOS:
        raise ValueError(f"Unknown scenario {scenario!r}; use one of {', '.join(SCENARIOS)}.")
    columns: dict[str, pd.Series] = {}
    for name, family, first, second in NUMERIC:
        if only is None or name in only:
            columns[name] = pd.Series(_numbers(rng, rows, scenario, family, first, second))
    for size in CATEGORIES:
        if only is not None and f"category_{size}" not in only:
            continue
        shares = _shares(size)
        if scenario == "reweighting":
            shares = shares[::-1]
        labels = np.array([f"c{size}_{i:02d}" for i in range(size)] + ["new"], dtype=object)
        codes = rng.choice(size, size=rows, p=shares)
        if scenario == "new_category":
            codes[rng.random(rows) < NEW_SHARE] = size
        columns[f"category_{size}"] = pd.Series(labels[codes], dtype="str")
    for share in BOOLEANS[:booleans]:
        if only is not None and f"flag_{round(share * 100)}" not in only:
            continue
        truth = share if scenario != "reweighting" else 1 - share
        columns[f"flag_{round(share * 100)}"] = pd.Series(rng.random(rows) < truth)
    frame = pd.DataFrame(columns)
    if scenario == "missing_20":
        for name in frame.columns:
            gone = rng.random(rows) < MISSING_SHARE
            column = frame[name]
            if column.dtype == bool:
                column = column.astype("boolean")
            elif column.dtype.kind in "iu":
                column = column.astype(np.float64)
            frame[name] = column.mask(gone)
    return frame


def changed_columns(scenario: str, *, booleans: int = len(BOOLEANS)) -> list[str]:
    """The columns ``scenario`` changes (every column for ``none`` and ``missing_20``)."""
    numeric = [name for name, *_ in NUMERIC]
    categorical = [f"category_{size}" for size in CATEGORIES]
    flags = [f"flag_{round(share * 100)}" for share in BOOLEANS[:booleans]]
    if scenario in ("mean_shift_0.1", "mean_shift_0.5", "variance_x2"):
        return numeric
    if scenario == "reweighting":
        return categorical + flags
    if scenario == "new_category":
        return categorical
    return numeric + categorical + flags


def detection_rates(trials: int, rows: int, seed: int) -> dict[str, dict[str, float]]:
    """Per scenario and default test, the share of changed columns flagged over ``trials``.

    Reference and current tables both have ``rows`` rows; each trial draws a new reference.
    ``"all"`` is the share over every changed column, whatever its test.
    """
    import numpy as np

    from keel.checks.sketch import sketch_table
    from keel.monitor.drift import detect_drift

    rng = np.random.default_rng(seed)
    flagged: dict[str, dict[str, list[int]]] = {scenario: {} for scenario in SCENARIOS}
    for _ in range(trials):
        reference = sketch_table(make_table(rng, rows))
        for scenario in SCENARIOS:
            changed = changed_columns(scenario)  # the others are drawn as in "none": not drawn
            current = make_table(rng, rows, scenario, only=changed)
            for column in detect_drift(reference, current, columns=changed).columns:
                if column.test is None or column.skipped is not None:
                    continue
                tally = flagged[scenario].setdefault(column.test, [0, 0])
                tally[0] += int(column.drifted)
                tally[1] += 1
    rates: dict[str, dict[str, float]] = {}
    for scenario, tests in flagged.items():
        rates[scenario] = {test: hits / total for test, (hits, total) in sorted(tests.items())}
        hits, total = (sum(tally[i] for tally in tests.values()) for i in (0, 1))
        rates[scenario]["all"] = hits / total if total else 0.0
    return rates


def _numbers(
    rng: np.random.Generator, rows: int, scenario: str, family: str, first: float, second: float
) -> np.ndarray:
    import numpy as np

    shift = {"mean_shift_0.1": 0.1, "mean_shift_0.5": 0.5}.get(scenario, 0.0)
    if family == "counts":
        rate = first + shift * math.sqrt(first)
        if scenario == "variance_x2":
            return np.asarray(rng.negative_binomial(first, 0.5, size=rows))  # mean rate, variance 2·rate
        return np.asarray(rng.poisson(rate, size=rows))
    if family == "normal":
        mean, std = first, second
        values = rng.normal(first, second, size=rows)
    elif family == "lognormal":
        mean = math.exp(first + second**2 / 2)
        std = math.sqrt((math.exp(second**2) - 1) * math.exp(2 * first + second**2))
        values = rng.lognormal(first, second, size=rows)
    else:
        mean, std = (first + second) / 2, (second - first) / math.sqrt(12)
        values = rng.uniform(first, second, size=rows)
    if scenario == "variance_x2":
        values = mean + math.sqrt(2) * (values - mean)
    return np.asarray(values + shift * std)


def _shares(size: int) -> np.ndarray:
    """Unequal category shares: 50/30/20 for three, else proportional to 1/rank."""
    import numpy as np

    if size == 3:
        return np.array([0.5, 0.3, 0.2])
    weights = 1.0 / np.arange(1, size + 1)
    return np.asarray(weights / weights.sum())
