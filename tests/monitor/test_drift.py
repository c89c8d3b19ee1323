"""Drift tests: false alarms and detection on data with a known truth, scores against scipy, and
the shape of results and errors.

The statistical tests run :func:`keel.monitor.drift_scenarios.detection_rates` once per sample
size (fixed seeds): 40 trials of 500 rows, where the significance tests apply, and 10 trials
of 100,000 rows, where the distances do; each trial draws 22 columns (15 numeric of four
shapes, 5 categorical of 3 to 30 categories, 2 boolean).
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from keel.checks.compare import population_stability_index
from keel.checks.sketch import TableSketch, sketch_table
from keel.core.errors import InvalidInput
from keel.monitor.drift import (
    MISSING,
    NO_CURRENT_VALUES,
    NO_VALUES,
    TESTS,
    ChiSquareTest,
    DriftResult,
    JensenShannonTest,
    KSTest,
    PSITest,
    WassersteinTest,
    ZTest,
    detect_drift,
)
from keel.monitor.drift_scenarios import NUMERIC, detection_rates, make_table

# false alarms and detection, on data with a known truth


@pytest.fixture(scope="module")
def small() -> dict[str, dict[str, float]]:
    return detection_rates(trials=40, rows=500, seed=20240601)


@pytest.fixture(scope="module")
def large() -> dict[str, dict[str, float]]:
    return detection_rates(trials=10, rows=100_000, seed=20240602)


def test_default_tests_follow_the_sample_size(small: dict[str, Any], large: dict[str, Any]) -> None:
    assert set(small["none"]) == {"ks", "chisquare", "z", "all"}
    assert set(large["none"]) == {"wasserstein", "jensenshannon", "all"}


def test_few_false_alarms_on_large_samples(large: dict[str, dict[str, float]]) -> None:
    assert large["none"]["all"] <= 0.05
    assert large["missing_20"]["all"] <= 0.05  # missing at random: the values left look the same


def test_false_alarms_on_small_samples_match_the_significance_level(
    small: dict[str, dict[str, float]],
) -> None:
    # p < 0.05 flags ~5% of undrifted columns by design (fewer for ties: KS is conservative)
    assert small["none"]["all"] <= 0.10
    assert all(rate <= 0.15 for rate in small["none"].values())
    assert small["missing_20"]["all"] <= 0.10


def test_a_half_sigma_mean_shift_is_detected(small: dict[str, Any], large: dict[str, Any]) -> None:
    assert small["mean_shift_0.5"]["ks"] >= 0.95
    assert large["mean_shift_0.5"]["wasserstein"] >= 0.95


def test_a_tenth_sigma_shift_sits_on_the_wasserstein_threshold(
    small: dict[str, Any], large: dict[str, Any]
) -> None:
    # The normalized Wasserstein distance of a shift of d standard deviations is d, so a 0.1σ
    # shift scores 0.1 ± sampling noise against a threshold of 0.1: about half are flagged.
    # That is the threshold's meaning ("drift" starts at a tenth of a standard deviation), not
    # a miss; 500 rows cannot tell 0.1σ from noise either (KS power ~0.3).
    assert 0.25 <= large["mean_shift_0.1"]["wasserstein"] <= 0.75
    assert small["mean_shift_0.1"]["ks"] <= 0.5


def test_doubled_variance_is_detected(small: dict[str, Any], large: dict[str, Any]) -> None:
    assert large["variance_x2"]["wasserstein"] >= 0.95
    assert small["variance_x2"]["ks"] >= 0.85  # KS is weaker on scale than on location


def test_category_changes_are_detected(small: dict[str, Any], large: dict[str, Any]) -> None:
    for rates in (small, large):
        assert rates["reweighting"]["all"] >= 0.95
        assert rates["new_category"]["all"] >= 0.95
    assert small["reweighting"]["z"] >= 0.95
    assert small["reweighting"]["chisquare"] >= 0.95
    assert large["reweighting"]["jensenshannon"] >= 0.95


def test_a_rise_in_missing_values_is_reported_not_tested() -> None:
    rng = np.random.default_rng(1)
    reference = sketch_table(make_table(rng, 20_000))
    result = detect_drift(reference, make_table(rng, 20_000, "missing_20"))
    for column in result.columns:
        assert column.reference_missing == 0.0
        assert column.current_missing == pytest.approx(0.2, abs=0.02)
        assert column.current_values == pytest.approx(16_000, rel=0.05)
    assert result.drift_share <= 0.1


# results do not depend on how the reference was built


def test_a_merged_reference_gives_the_same_results_as_a_whole_one() -> None:
    rng = np.random.default_rng(2)
    parts = [make_table(rng, 25_000) for _ in range(4)]
    whole = sketch_table(pd.concat(parts, ignore_index=True))
    merged = sketch_table(parts[0])
    for part in parts[1:]:
        merged = merged.merge(sketch_table(part))
    restored = TableSketch.from_dict(json.loads(json.dumps(merged.to_dict())))
    for scenario, rows in [("none", 20_000), ("mean_shift_0.5", 20_000), ("none", 800), ("reweighting", 800)]:
        current = make_table(rng, rows, scenario)
        a, b = detect_drift(whole, current), detect_drift(restored, current)
        for x, y in zip(a.columns, b.columns, strict=True):
            assert (x.column, x.test, x.drifted) == (y.column, y.test, y.drifted)
            assert x.score is not None and y.score is not None
            if x.stat == "distance":
                assert y.score == pytest.approx(x.score, abs=0.01)
            elif x.score > 1e-6:  # p-values: same order of magnitude
                assert y.score == pytest.approx(x.score, rel=0.5, abs=0.02)


# scores against scipy on the raw data


def column_pair(reference: Any, current: Any, **sketch: Any) -> tuple[Any, pd.Series]:
    return sketch_table(pd.DataFrame({"x": reference}), **sketch).columns["x"], pd.Series(current)


def test_ks_is_exact_for_a_reference_kept_whole() -> None:
    rng = np.random.default_rng(3)
    for reference, current in [
        (rng.normal(size=200), rng.normal(0.2, 1, size=300)),
        (rng.poisson(3, size=250).astype(float), rng.poisson(3.4, size=400).astype(float)),
    ]:
        sketch, series = column_pair(reference, current)
        expected = ks_2samp(reference, current, method="asymp")
        assert KSTest().score(sketch, series) == pytest.approx(expected.pvalue, rel=1e-6)


def test_ks_against_a_large_reference_is_close_to_the_exact_test() -> None:
    rng = np.random.default_rng(4)
    reference = rng.lognormal(size=200_000)
    for shift in (0.0, 0.05, 0.15):
        current = rng.lognormal(size=800) + shift
        sketch, series = column_pair(reference, current)
        expected = ks_2samp(reference, current, method="asymp").pvalue
        assert KSTest().score(sketch, series) == pytest.approx(expected, rel=0.15, abs=0.01)


def test_wasserstein_is_normalized_by_the_reference_std() -> None:
    rng = np.random.default_rng(5)
    reference = rng.normal(10, 3, size=200)  # kept whole: exact
    current = rng.normal(11, 3, size=5000)
    sketch, series = column_pair(reference, current)
    expected = wasserstein_distance(reference, current) / reference.std()
    assert WassersteinTest().score(sketch, series) == pytest.approx(expected, rel=1e-9)
    # a large reference: the outermost 1/255 of each tail is left out, the rest is exact
    for family in ("normal", "lognormal"):
        big = getattr(rng, family)(size=300_000)
        moved = getattr(rng, family)(size=300_000) + 0.3 * big.std()
        sketch, series = column_pair(big, moved)
        assert WassersteinTest().score(sketch, series) == pytest.approx(0.3, abs=0.01)


def test_chisquare_is_the_homogeneity_test_with_an_other_new_bucket() -> None:
    reference = ["a"] * 300 + ["b"] * 150 + ["c"] * 50
    current = ["a"] * 200 + ["b"] * 180 + ["c"] * 70 + ["new"] * 50
    sketch, series = column_pair(reference, current)
    expected = chi2_contingency([[300, 150, 50, 0], [200, 180, 70, 50]], correction=False).pvalue
    assert ChiSquareTest().score(sketch, series) == pytest.approx(expected, rel=1e-9)


def test_z_test_on_the_share_of_true() -> None:
    sketch, series = column_pair([True] * 300 + [False] * 700, [True] * 360 + [False] * 640)
    pooled = 660 / 2000
    z = (0.36 - 0.30) / np.sqrt(pooled * (1 - pooled) * (2 / 1000))
    from scipy.stats import norm

    assert ZTest().score(sketch, series) == pytest.approx(2 * norm.sf(z), rel=1e-9)


def test_jensenshannon_and_psi_over_categories() -> None:
    sketch, series = column_pair(["a"] * 50 + ["b"] * 30 + ["c"] * 20, ["a"] * 20 + ["b"] * 30 + ["c"] * 50)
    expected = jensenshannon([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], base=2)
    assert JensenShannonTest().score(sketch, series) == pytest.approx(expected, rel=1e-9)
    assert PSITest().score(sketch, series) == pytest.approx(
        population_stability_index([50, 30, 20, 0], [20, 30, 50, 0]), rel=1e-9
    )


def test_psi_over_reference_deciles() -> None:
    rng = np.random.default_rng(6)
    sketch, series = column_pair(rng.normal(size=100_000), rng.normal(size=100_000))
    assert PSITest().score(sketch, series) < 0.01
    sketch, series = column_pair(rng.normal(size=100_000), rng.normal(1, 1, size=100_000))
    assert PSITest().score(sketch, series) > 0.5


# columns that are constant, empty, missing or of another kind


def test_constant_columns_do_not_crash() -> None:
    for rows, test in [(5000, "wasserstein"), (50, "ks")]:
        reference = sketch_table(pd.DataFrame({"x": [3.0] * rows}))
        same = detect_drift(reference, pd.DataFrame({"x": [3.0] * rows})).columns[0]
        assert (same.test, same.drifted) == (test, False)
        assert same.score == (0.0 if test == "wasserstein" else 1.0)
        moved = detect_drift(reference, pd.DataFrame({"x": [3.0] * (rows - 1) + [4.0]})).columns[0]
        assert (moved.test, moved.drifted) == (test, test == "wasserstein")  # one value in 50: no evidence
        other = detect_drift(reference, pd.DataFrame({"x": [5.0] * rows})).columns[0]
        assert (other.test, other.drifted) == (test, True)


def test_empty_and_missing_columns() -> None:
    reference = sketch_table(
        pd.DataFrame(
            {
                "kept": np.arange(100.0),
                "emptied": np.arange(100.0),
                "never": [np.nan] * 100,
                "gone": ["a"] * 100,
            }
        )
    )
    current = pd.DataFrame({"kept": np.arange(100.0), "emptied": [np.nan] * 100, "never": [np.nan] * 100})
    result = detect_drift(reference, current)
    kept, emptied, never, gone = result.columns
    assert not kept.drifted and kept.skipped is None
    assert emptied.drifted and emptied.skipped == NO_CURRENT_VALUES and emptied.current_missing == 1.0
    assert not never.drifted and never.skipped == NO_VALUES
    assert gone.drifted and gone.skipped == MISSING and gone.test is None
    # counted: the tested column, the emptied one, the vanished one; not the never-filled one
    assert result.counted == 3 and result.drift_share == pytest.approx(2 / 3) and result.dataset_drift


def test_datetime_and_text_are_skipped_unless_asked_for() -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, 2000), unit="s"),
            "note": [f"a long free-text note, number {i}, about nothing" for i in range(2000)],
        }
    )
    reference = sketch_table(frame)
    result = detect_drift(reference, frame)
    assert [c.skipped is not None and "not tested by default" in c.skipped for c in result.columns] == [
        True,
        True,
    ]
    assert result.counted == 0 and result.drift_share == 0.0 and not result.dataset_drift
    later = frame.assign(when=frame["when"] + pd.Timedelta(days=30))
    asked = detect_drift(reference, later, tests={"when": "ks", "note": "chisquare"})
    assert asked.columns[0].test == "ks" and asked.columns[0].drifted
    assert asked.columns[1].test == "chisquare" and asked.columns[1].score is not None


def test_many_categories_keep_the_significance_test_until_the_distance_is_reliable() -> None:
    rng = np.random.default_rng(8)
    labels = np.array([f"v{i}" for i in range(30)], dtype=object)

    def draw(rows: int) -> pd.DataFrame:
        return pd.DataFrame({"many": labels[rng.integers(0, 30, rows)], "flag": rng.random(rows) < 0.5})

    at = {rows: detect_drift(sketch_table(draw(rows)), draw(rows)) for rows in (1_500, 20_000)}
    assert [c.test for c in at[1_500].columns] == ["chisquare", "jensenshannon"]
    assert [c.test for c in at[20_000].columns] == ["jensenshannon", "jensenshannon"]


# overrides, plots and the JSON form


def test_overrides_pick_the_test_and_threshold() -> None:
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 5000), "city": rng.choice(["a", "b", "c"], 5000)})
    reference = sketch_table(frame)
    result = detect_drift(
        reference, frame, tests={"age": "psi", "city": "chisquare"}, thresholds={"age": 0.3, "city": 0.01}
    )
    age, city = result.columns
    assert (age.test, age.stat, age.threshold) == ("psi", "distance", 0.3)
    assert (city.test, city.stat, city.threshold) == ("chisquare", "p_value", 0.01)
    only = detect_drift(reference, frame, columns=["city"], thresholds={"city": 0.2})
    assert [(c.column, c.test, c.threshold) for c in only.columns] == [("city", "jensenshannon", 0.2)]


def test_plot_data_for_reports() -> None:
    rng = np.random.default_rng(10)
    reference = sketch_table(
        pd.DataFrame(
            {"x": rng.normal(size=50_000), "c": rng.choice(["a", "b", "c"], 50_000, p=[0.6, 0.3, 0.1])}
        )
    )
    current = pd.DataFrame({"x": rng.normal(1, 1, size=3000), "c": rng.choice(["a", "b", "new"], 3000)})
    x, c = detect_drift(reference, current).columns
    assert x.plot is not None and x.plot["type"] == "histogram"
    edges = x.plot["edges"]
    assert len(edges) == 31 and edges[0] <= -2.5 and edges[-1] >= 3.5  # widened to the current's
    assert sum(x.plot["reference"]) == pytest.approx(0.99, abs=0.01)
    assert sum(x.plot["current"]) == pytest.approx(0.99, abs=0.01)
    assert c.plot is not None and c.plot["type"] == "bars"
    shares = dict(zip(c.plot["categories"], c.plot["reference"], strict=True))
    assert shares["a"] == pytest.approx(0.6, abs=0.01) and shares["new"] == 0.0 and "(other)" in shares
    current_shares = dict(zip(c.plot["categories"], c.plot["current"], strict=True))
    assert current_shares["new"] == pytest.approx(1 / 3, abs=0.03)


def test_result_to_dict_is_plain_json() -> None:
    rng = np.random.default_rng(11)
    frame = make_table(rng, 2000)
    frame["constant"] = 1.0
    reference = sketch_table(frame)
    current = make_table(rng, 2000, "mean_shift_0.5").drop(columns=["flag_30"]).assign(constant=1.0)
    result = detect_drift(reference, current, share_threshold=0.3)
    body = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert body["reference_rows"] == body["current_rows"] == 2000
    assert body["share_threshold"] == 0.3 and body["dataset_drift"] is True
    assert body["drift_share"] == pytest.approx(result.drifted / result.counted)
    gone = next(c for c in body["columns"] if c["column"] == "flag_30")
    assert gone["skipped"] == MISSING and gone["drifted"] is True and gone["plot"] is None
    assert isinstance(result, DriftResult) and result.column("normal_a").drifted


# bad input


@pytest.fixture(scope="module")
def reference() -> TableSketch:
    return sketch_table(pd.DataFrame({"age": np.arange(100.0), "city": ["a", "b"] * 50}))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"current": pd.DataFrame({"age": []})}, "no rows"),
        ({"current": pd.DataFrame({"height": [1.0]})}, "none of the reference columns"),
        ({"tests": {"age": "anderson"}}, "Unknown drift test 'anderson' for column 'age'; use one of"),
        ({"tests": {"age": "chisquare"}}, "'chisquare' does not fit numeric column 'age'; use 'ks'"),
        ({"tests": {"city": "wasserstein"}}, "does not fit categorical column 'city'"),
        ({"tests": {"height": "ks"}}, "tests= names column 'height'"),
        ({"thresholds": {"height": 0.1}}, "thresholds= names column 'height'"),
        ({"thresholds": {"age": -1}}, "must be a number ≥ 0"),
        ({"tests": {"age": "ks"}, "thresholds": {"age": 5}}, "p-value: give a number between 0 and 1"),
        ({"columns": ["height"]}, "Column 'height' is not in the reference sketch"),
        ({"share_threshold": 2}, "share_threshold must be a fraction"),
    ],
)
def test_bad_input_is_refused_in_one_line(
    reference: TableSketch, kwargs: dict[str, Any], message: str
) -> None:
    current = kwargs.pop("current", pd.DataFrame({"age": np.arange(50.0), "city": ["a"] * 50}))
    with pytest.raises(InvalidInput, match=message) as caught:
        detect_drift(reference, current, **kwargs)
    assert "\n" not in str(caught.value)


def test_a_default_test_threshold_is_checked_for_the_test_it_gets(reference: TableSketch) -> None:
    with pytest.raises(InvalidInput, match="The ks threshold for column 'age' is a p-value"):
        detect_drift(reference, pd.DataFrame({"age": np.arange(50.0)}), thresholds={"age": 3})


def test_every_test_has_a_name_stat_and_threshold() -> None:
    assert set(TESTS) == {"ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"}
    for name, test in TESTS.items():
        assert test.name == name and test.stat in ("p_value", "distance") and test.threshold > 0
    assert KSTest(threshold=0.01).threshold == 0.01 and KSTest().threshold == 0.05


# speed


@pytest.mark.slow
def test_a_million_rows_by_twenty_columns_detect_quickly() -> None:
    rng = np.random.default_rng(12)
    rows = 1_000_000
    labels = np.array([f"category_{i}" for i in range(30)], dtype=object)

    def draw() -> pd.DataFrame:
        numbers = {name: rng.normal(size=rows) for name, *_ in NUMERIC}
        categories = {f"c{i}": pd.Series(labels[rng.integers(0, 30, rows)], dtype="str") for i in range(5)}
        return pd.DataFrame(numbers | categories)

    reference = sketch_table(draw())
    current = draw()
    detect_drift(reference, current.iloc[:2000])  # imports
    started = time.perf_counter()
    result = detect_drift(reference, current)
    assert time.perf_counter() - started < 2.5  # ~0.7 s on two cores; generous for loaded machines
    assert result.drifted == 0
