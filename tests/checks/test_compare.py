"""Train/serve checks: each comparison rule against a reference sketch, and its buckets."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, load_wine

from keel.checks.compare import (
    PSI,
    CompareOptions,
    CurrentColumn,
    DistributionTest,
    Finding,
    compare_to_sketch,
    population_stability_index,
)
from keel.checks.sketch import ColumnSketch, TableSketch, numeric_buckets, sketch_table
from keel.core.errors import InvalidInput


def wine() -> pd.DataFrame:
    return load_wine(as_frame=True).frame


def iris() -> pd.DataFrame:
    data = load_iris(as_frame=True)
    frame = data.frame.drop(columns="target")
    frame["species"] = pd.Series(data.target_names[data.target], dtype="str")
    return frame


def find(findings: list[Finding], column: str, rule: str) -> Finding:
    matches = [f for f in findings if f.column == column and f.rule == rule]
    assert len(matches) == 1, f"expected one {rule} finding for {column}, got {matches}"
    return matches[0]


def rules(findings: list[Finding], column: str) -> set[str]:
    return {f.rule for f in findings if f.column == column}


def failed(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.column, f.rule) for f in findings if not f.passed]


# identical data


def test_identical_data_passes_every_rule() -> None:
    frame = wine()
    findings = compare_to_sketch(sketch_table(frame), frame)
    assert failed(findings) == []
    for column in frame.columns:
        assert rules(findings, column) == {"missing_rate", "out_of_range", "distribution"}
        assert find(findings, column, "distribution").value == pytest.approx(0.0, abs=1e-12)
        assert find(findings, column, "out_of_range").value == 0.0


def test_identical_mixed_data_passes_every_rule() -> None:
    frame = iris()
    findings = compare_to_sketch(sketch_table(frame), frame)
    assert failed(findings) == []
    assert rules(findings, "species") == {"missing_rate", "new_categories", "distribution"}


def test_another_sample_of_the_same_distribution_passes() -> None:
    rng = np.random.default_rng(7)
    reference = pd.DataFrame({"x": rng.normal(10, 2, 20_000), "g": rng.choice(["a", "b", "c"], 20_000)})
    current = pd.DataFrame({"x": rng.normal(10, 2, 5_000), "g": rng.choice(["a", "b", "c"], 5_000)})
    findings = compare_to_sketch(sketch_table(reference), current)
    assert find(findings, "x", "distribution").value < 0.05
    assert find(findings, "g", "distribution").value < 0.01
    assert find(findings, "x", "out_of_range").passed  # a few tail values beyond the reference's extremes
    assert failed(findings) == []


# the rules, one at a time


def test_a_shifted_numeric_distribution_fails_psi() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 20_000)})
    current = pd.DataFrame({"x": rng.normal(1, 1, 5_000)})
    findings = compare_to_sketch(sketch_table(reference), current)
    distribution = find(findings, "x", "distribution")
    assert not distribution.passed
    assert distribution.value > 0.5
    assert distribution.threshold == 0.2
    assert distribution.test == "PSI"
    assert "'x'" in distribution.message and "PSI" in distribution.message and "0.2" in distribution.message
    # A one-sigma shift keeps most values inside the reference's range.
    assert find(findings, "x", "out_of_range").passed


def test_a_shifted_wine_column_fails_psi_and_only_that_column() -> None:
    frame = wine()
    current = frame.copy()
    current["alcohol"] = current["alcohol"] + current["alcohol"].std()
    findings = compare_to_sketch(sketch_table(frame), current)
    assert ("alcohol", "distribution") in failed(findings)
    assert {column for column, _ in failed(findings)} == {"alcohol"}


def test_values_beyond_the_reference_max_are_out_of_range_with_samples() -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"x": rng.uniform(0, 100, 10_000)})
    high = reference["x"].max()
    values = rng.uniform(0, 100, 1_000)
    values[:30] = high + 1 + np.arange(30)  # 3% above the reference's maximum
    findings = compare_to_sketch(sketch_table(reference), pd.DataFrame({"x": values}))
    out = find(findings, "x", "out_of_range")
    assert not out.passed
    assert out.value == pytest.approx(0.03)
    assert out.threshold == 0.01
    assert out.samples == tuple(float(high + 1 + i) for i in range(5))
    assert all(type(s) is float for s in out.samples)
    assert "'x'" in out.message and "3%" in out.message and "1%" in out.message
    json.dumps(out.to_dict(), allow_nan=False)


def test_a_few_out_of_range_values_stay_under_the_limit() -> None:
    reference = pd.DataFrame({"x": np.arange(1_000, dtype=float)})
    values = np.arange(1_000, dtype=float)
    values[:5] = -1.0  # 0.5% below the minimum
    findings = compare_to_sketch(sketch_table(reference), pd.DataFrame({"x": values}))
    out = find(findings, "x", "out_of_range")
    assert out.passed and out.value == pytest.approx(0.005)
    assert out.samples == (-1.0,)
    strict = compare_to_sketch(
        sketch_table(reference), pd.DataFrame({"x": values}), options=CompareOptions(max_out_of_range=0.001)
    )
    assert not find(strict, "x", "out_of_range").passed


def test_values_that_are_not_numbers_count_as_out_of_range() -> None:
    reference = pd.DataFrame({"x": np.linspace(0, 10, 500)})
    current = pd.DataFrame({"x": pd.Series(["1.5", "2", "abc", None, "n/a", "3"] * 50, dtype="str")})
    findings = compare_to_sketch(sketch_table(reference), current)
    out = find(findings, "x", "out_of_range")
    assert out.value == pytest.approx(2 / 5)  # of the non-null values
    assert out.samples == ("abc", "n/a")
    assert "not numbers" in out.message
    assert "type_changed" not in rules(findings, "x")
    assert find(findings, "x", "missing_rate").value == pytest.approx(1 / 6)


def test_a_numeric_column_that_no_longer_holds_numbers_changed_type() -> None:
    reference = pd.DataFrame({"x": np.linspace(0, 10, 500)})
    current = pd.DataFrame({"x": ["low", "high", None] * 10})
    findings = compare_to_sketch(sketch_table(reference), current)
    changed = find(findings, "x", "type_changed")
    assert not changed.passed
    assert changed.samples == ("low", "high")
    assert "numeric" in changed.message and "'x'" in changed.message
    assert rules(findings, "x") == {"type_changed", "missing_rate"}


def test_a_new_category_is_detected() -> None:
    frame = iris()
    current = frame.copy()
    current.loc[current.index[:6], "species"] = "chinensis"
    current.loc[current.index[6:9], "species"] = "pallida"
    findings = compare_to_sketch(sketch_table(frame), current)
    new = find(findings, "species", "new_categories")
    assert not new.passed
    assert new.value == pytest.approx(9 / 150)
    assert new.threshold == 0.0
    assert new.samples == ("chinensis", "pallida")  # most frequent first
    assert "'species'" in new.message and "6%" in new.message
    # PSI sees them too: they fill the reference's empty "other" bucket (epsilon there).
    distribution = find(findings, "species", "distribution")
    assert distribution.value == pytest.approx(population_stability_index([50, 50, 50, 0], [41, 50, 50, 9]))
    assert not distribution.passed


def test_new_categories_are_allowed_up_to_the_limit() -> None:
    frame = iris()
    current = frame.copy()
    current.loc[current.index[:3], "species"] = "chinensis"
    findings = compare_to_sketch(
        sketch_table(frame), current, options=CompareOptions(max_new_categories=0.05)
    )
    assert find(findings, "species", "new_categories").passed


def test_new_categories_are_not_judged_when_the_reference_had_an_other_bucket() -> None:
    rng = np.random.default_rng(3)
    labels = np.array([f"k{i}" for i in range(10)])
    reference = pd.DataFrame({"k": labels[rng.integers(0, 10, 5_000)]})
    sketch = sketch_table(reference, max_categories=4)
    column = sketch.columns["k"]
    assert len(column.categories) == 4 and column.other > 0
    assert not column.complete
    current = pd.DataFrame({"k": np.concatenate([labels[rng.integers(0, 10, 900)], ["brand-new"] * 100])})
    findings = compare_to_sketch(sketch, current)
    assert rules(findings, "k") == {"missing_rate", "distribution"}
    # Values outside the kept categories (new ones too) land in the "other" bucket.
    assert find(findings, "k", "distribution").passed


def test_a_category_mix_that_moved_fails_psi() -> None:
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 10_000, p=[0.6, 0.3, 0.1])})
    current = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 2_000, p=[0.2, 0.3, 0.5])})
    findings = compare_to_sketch(sketch_table(reference), current)
    assert not find(findings, "g", "distribution").passed
    assert find(findings, "g", "new_categories").passed


def test_injected_nulls_raise_the_missing_rate() -> None:
    frame = wine()
    current = frame.copy()
    current.loc[current.index[::10], "magnesium"] = np.nan  # 18 of 178 rows
    findings = compare_to_sketch(sketch_table(frame), current)
    missing = find(findings, "magnesium", "missing_rate")
    assert not missing.passed
    assert missing.value == pytest.approx(18 / 178)
    assert missing.threshold == 0.05
    assert "'magnesium'" in missing.message and "10.1%" in missing.message
    # The remaining values are still compared, over the non-null ones.
    assert find(findings, "magnesium", "out_of_range").value == 0.0
    assert failed(findings) == [("magnesium", "missing_rate")]


def test_the_missing_rate_is_an_increase_over_the_reference() -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=1_000)
    reference = pd.DataFrame({"x": np.where(np.arange(1_000) % 10 == 0, np.nan, values)})  # 10% null
    current = pd.DataFrame({"x": np.where(np.arange(1_000) % 7 == 0, np.nan, values)})  # 14.3% null
    findings = compare_to_sketch(sketch_table(reference), current)
    missing = find(findings, "x", "missing_rate")
    assert missing.passed
    assert missing.value == pytest.approx(143 / 1_000 - 0.1)
    fewer = compare_to_sketch(sketch_table(reference), pd.DataFrame({"x": values}))
    assert find(fewer, "x", "missing_rate").value == pytest.approx(-0.1)


def test_a_missing_column_is_a_failed_finding() -> None:
    frame = wine()
    findings = compare_to_sketch(sketch_table(frame), frame.drop(columns=["proline", "hue"]))
    for column in ("proline", "hue"):
        missing = find(findings, column, "missing_column")
        assert not missing.passed
        assert rules(findings, column) == {"missing_column"}
        assert repr(column) in missing.message
    assert sorted(failed(findings)) == [("hue", "missing_column"), ("proline", "missing_column")]


def test_columns_only_in_the_current_table_are_ignored() -> None:
    frame = wine()
    current = frame.assign(extra=1.0)
    assert rules(compare_to_sketch(sketch_table(frame), current), "extra") == set()


def test_options_limit_the_columns() -> None:
    frame = wine()
    findings = compare_to_sketch(
        sketch_table(frame), frame.drop(columns="hue"), options=CompareOptions(columns=["alcohol"])
    )
    assert {f.column for f in findings} == {"alcohol"}
    with pytest.raises(InvalidInput, match="'colour' is not in the reference sketch; choose from"):
        compare_to_sketch(sketch_table(frame), frame, options=CompareOptions(columns=["colour"]))


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInput, match="max_out_of_range must be a number of at least 0"):
        CompareOptions(max_out_of_range=-0.1)
    with pytest.raises(InvalidInput, match="psi_threshold"):
        CompareOptions(psi_threshold=float("nan"))


# the buckets of the distribution test


def test_numeric_buckets_are_equal_frequency_from_the_sketch() -> None:
    rng = np.random.default_rng(6)
    values = rng.normal(5, 2, 10_000)
    values[:100] = np.nan
    finite = values[~np.isnan(values)]
    column = sketch_table(pd.DataFrame({"x": values})).columns["x"]
    cuts, shares = column.quantile_buckets(10)
    assert len(cuts) == 9 and set(cuts) <= set(finite)  # every cut is a reference value
    assert shares.sum() == pytest.approx(1.0)
    assert np.allclose(shares, 0.1, atol=0.005)  # equal frequency, within the sketch's resolution
    counts = numeric_buckets(cuts, finite)
    assert counts.sum() == 9_900
    assert np.allclose(counts / 9_900, shares, atol=0.001)  # the shares are the reference's own


def test_an_exact_sketch_cuts_at_the_lower_quantiles() -> None:
    values = np.arange(100.0)
    column = sketch_table(pd.DataFrame({"x": values})).columns["x"]
    assert column.exact
    cuts, shares = column.quantile_buckets(20)
    assert tuple(cuts) == tuple(np.quantile(values, np.arange(1, 20) / 20, method="lower"))
    assert tuple(numeric_buckets(cuts, values)) == tuple(np.round(shares * 100).astype(int))


def test_a_few_distinct_values_keep_one_bucket_each() -> None:
    values = np.repeat([0, 1, 2, 5], [500, 300, 150, 50])
    reference = sketch_table(pd.DataFrame({"k": values}))
    cuts, shares = reference.columns["k"].quantile_buckets(20)
    assert tuple(cuts) == (0.0, 1.0, 2.0)  # the last bucket, above 2, holds the 5s
    assert tuple(numeric_buckets(cuts, values.astype(float))) == (500, 300, 150, 50)
    assert np.allclose(shares, [0.5, 0.3, 0.15, 0.05], atol=0.004)
    assert find(compare_to_sketch(reference, pd.DataFrame({"k": values})), "k", "distribution").value < 0.001
    current = pd.DataFrame({"k": np.repeat([0, 1, 2, 5], [50, 300, 150, 500])})
    assert not find(compare_to_sketch(reference, current), "k", "distribution").passed


def test_a_sketch_read_back_from_json_judges_data_as_the_original_does() -> None:
    rng = np.random.default_rng(8)
    frame = iris()
    frame["flag"] = rng.random(len(frame)) < 0.4
    frame["when"] = pd.date_range("2024-03-01", periods=len(frame), freq="D")
    frame["nothing"] = np.nan
    frame["constant"] = 3
    frame.loc[frame.index[:5], "sepal length (cm)"] = np.nan
    sketch = sketch_table(frame)
    again = TableSketch.from_dict(json.loads(json.dumps(sketch.to_dict(), allow_nan=False)))
    current = frame.sample(100, random_state=1).assign(constant=4)
    assert compare_to_sketch(again, current) == compare_to_sketch(sketch, current)


def test_categories_match_whatever_dtype_carries_them() -> None:
    reference = pd.DataFrame({"grade": pd.Categorical([1, 2, 3] * 100)})
    current = pd.DataFrame({"grade": [1.0, 2.0, None, 3.0] * 25})  # floats, as a null makes them
    findings = compare_to_sketch(sketch_table(reference), current)
    assert find(findings, "grade", "new_categories").value == 0.0
    assert find(findings, "grade", "distribution").value < 0.01


def test_free_text_is_checked_for_missing_values_only() -> None:
    notes = [f"customer {i} asked about the delivery date of order {i * 7}" for i in range(300)]
    reference = pd.DataFrame({"note": notes})
    assert sketch_table(reference).columns["note"].kind == "text"
    current = pd.DataFrame(
        {"note": [f"a note no one wrote before, number {i}" for i in range(50)] + [None] * 10}
    )
    findings = compare_to_sketch(sketch_table(reference), current)
    assert rules(findings, "note") == {"missing_rate"}
    assert not find(findings, "note", "missing_rate").passed


# edge cases


def test_an_empty_current_table_is_refused_with_a_one_line_message() -> None:
    frame = wine()
    sketch = sketch_table(frame)
    with pytest.raises(
        InvalidInput, match="The current table has no rows; compare a table with at least one row"
    ) as info:
        compare_to_sketch(sketch, frame.iloc[:0])
    assert "\n" not in str(info.value)
    with pytest.raises(InvalidInput, match="no rows"):
        compare_to_sketch(sketch, pd.DataFrame())


def test_an_empty_reference_table_is_refused() -> None:
    with pytest.raises(InvalidInput, match="The reference table has no rows"):
        compare_to_sketch(sketch_table(wine().iloc[:0]), wine())
    with pytest.raises(InvalidInput, match="give a TableSketch"):
        compare_to_sketch(wine(), wine())  # type: ignore[arg-type]


def test_all_null_columns() -> None:
    reference = pd.DataFrame({"x": np.full(100, np.nan), "s": [None] * 100, "y": np.arange(100.0)})
    sketch = sketch_table(reference)
    assert sketch.columns["x"].kind == "numeric" and sketch.columns["x"].nulls == 100
    assert sketch.columns["x"].min is None and sketch.columns["x"].quantiles == ()
    assert sketch.columns["s"].kind == "categorical" and sketch.columns["s"].categories == {}

    # Still all null: nothing to measure beyond the null rate, which did not change.
    same = compare_to_sketch(sketch, reference)
    assert failed(same) == []
    assert rules(same, "x") == {"missing_rate"} and rules(same, "s") == {"missing_rate"}

    # Values where the reference never had one: all out of range, all new.
    filled = compare_to_sketch(
        sketch, pd.DataFrame({"x": np.ones(100), "s": ["a"] * 100, "y": np.arange(100.0)})
    )
    assert find(filled, "x", "out_of_range").value == 1.0
    assert "no finite values" in find(filled, "x", "out_of_range").message
    assert find(filled, "s", "new_categories").value == 1.0

    # A column that became all null fails the missing rate and nothing else.
    emptied = compare_to_sketch(sketch, reference.assign(y=np.nan))
    assert find(emptied, "y", "missing_rate").value == 1.0
    assert rules(emptied, "y") == {"missing_rate"}


def test_a_constant_column_fills_one_bucket() -> None:
    reference = pd.DataFrame({"c": np.full(1_000, 4.5)})
    column = sketch_table(reference).columns["c"]
    cuts, shares = column.quantile_buckets(20)
    assert tuple(cuts) == (4.5,) and tuple(shares) == (1.0, 0.0)
    assert (column.min, column.max, column.std) == (4.5, 4.5, 0.0)
    assert failed(compare_to_sketch(sketch_table(reference), reference)) == []
    changed = compare_to_sketch(sketch_table(reference), pd.DataFrame({"c": np.full(200, 5.0)}))
    assert sorted(failed(changed)) == [("c", "distribution"), ("c", "out_of_range")]
    assert find(changed, "c", "out_of_range").samples == (5.0,)


def test_a_boolean_column() -> None:
    rng = np.random.default_rng(9)
    reference = pd.DataFrame({"b": rng.random(5_000) < 0.2})
    column = sketch_table(reference).columns["b"]
    assert column.kind == "boolean"
    assert set(column.categories) == {"True", "False"} and column.other == 0
    assert column.categories["True"] == int(reference["b"].sum())
    assert failed(compare_to_sketch(sketch_table(reference), reference)) == []

    flipped = compare_to_sketch(sketch_table(reference), pd.DataFrame({"b": rng.random(1_000) < 0.7}))
    assert failed(flipped) == [("b", "distribution")]

    nullable = pd.DataFrame({"b": pd.array([True, False, None] * 100, dtype="boolean")})
    with_nulls = compare_to_sketch(sketch_table(reference), nullable)
    assert find(with_nulls, "b", "missing_rate").value == pytest.approx(1 / 3)

    as_numbers = compare_to_sketch(sketch_table(reference), pd.DataFrame({"b": [0, 1] * 50}))
    changed = find(as_numbers, "b", "type_changed")
    assert not changed.passed and changed.samples == (0, 1)


def test_a_datetime_column_checks_nulls_and_type_but_not_range() -> None:
    reference = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=1_000, freq="h")})
    column = sketch_table(reference).columns["t"]
    assert column.kind == "datetime"
    assert column.min == pd.Timestamp("2024-01-01").timestamp()
    assert column.max == pd.Timestamp("2024-01-01").timestamp() + 999 * 3600

    later = pd.DataFrame({"t": pd.date_range("2025-06-01", periods=100, freq="min")})
    findings = compare_to_sketch(sketch_table(reference), later)
    assert failed(findings) == [] and rules(findings, "t") == {"missing_rate"}

    text = pd.DataFrame({"t": ["2025-06-01T10:00:00", "2025-06-02T10:00:00", None]})
    assert failed(compare_to_sketch(sketch_table(reference), text)) == [("t", "missing_rate")]

    garbage = pd.DataFrame({"t": ["soon", "later"]})
    changed = find(compare_to_sketch(sketch_table(reference), garbage), "t", "type_changed")
    assert changed.samples == ("soon", "later") and "datetime" in changed.message


def test_tz_aware_datetimes_sketch_as_posix_seconds() -> None:
    frame = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, freq="D", tz="Europe/Oslo")})
    column = sketch_table(frame).columns["t"]
    assert column.min == pd.Timestamp("2024-01-01", tz="Europe/Oslo").timestamp()


# the distribution-test interface


def test_psi_value_and_epsilon() -> None:
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    assert population_stability_index([50, 50], [90, 10]) == pytest.approx(expected)
    # An empty bucket counts as epsilon, so the score is large but finite.
    assert population_stability_index([100, 0], [50, 50]) == pytest.approx(
        (0.5 - 1) * math.log(0.5 / 1) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    )
    assert population_stability_index([0, 0], [1, 2]) is None
    with pytest.raises(InvalidInput, match="bucket counts"):
        population_stability_index([1, 2], [1, 2, 3])


def test_a_custom_distribution_test_plugs_in() -> None:
    class MeanShift:
        """How many reference standard deviations the current mean moved (numeric only)."""

        name = "mean shift"
        threshold = 0.5

        def __init__(self) -> None:
            self.seen: list[str] = []

        def score(self, reference: ColumnSketch, current: CurrentColumn) -> float | None:
            self.seen.append(reference.name)
            if current.buckets is not None:
                assert len(current.buckets) == len(reference.buckets())
            if current.values is None or not reference.std or reference.mean is None:
                return None
            return float(abs(current.values.mean() - reference.mean) / reference.std)

    test = MeanShift()
    assert isinstance(test, DistributionTest) and isinstance(PSI(), DistributionTest)
    rng = np.random.default_rng(10)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 5_000), "g": rng.choice(["a", "b"], 5_000)})
    current = pd.DataFrame({"x": rng.normal(0.8, 1, 1_000), "g": rng.choice(["a", "b"], 1_000)})
    findings = compare_to_sketch(
        sketch_table(reference), current, options=CompareOptions(tests=[test, PSI(0.1)])
    )
    shift = [f for f in findings if f.rule == "distribution" and f.test == "mean shift"]
    assert [(f.column, f.passed) for f in shift] == [("x", False)]  # not applicable to "g"
    assert shift[0].value == pytest.approx(0.8, abs=0.1)
    assert {f.column for f in findings if f.test == "PSI"} == {"x", "g"}
    assert sorted(test.seen) == ["g", "x"]


def test_findings_serialise_to_json() -> None:
    reference = pd.DataFrame({"x": np.arange(10.0)})
    current = pd.DataFrame({"x": [np.inf, 1.0, 2.0]})
    findings = compare_to_sketch(sketch_table(reference), current)
    out = find(findings, "x", "out_of_range")
    assert out.samples == (math.inf,)
    body: list[dict[str, Any]] = json.loads(json.dumps([f.to_dict() for f in findings], allow_nan=False))
    assert {"column": "x", "rule": "out_of_range", "samples": ["inf"]}.items() <= body[1].items()


def test_example_values_in_messages_are_short() -> None:
    reference = pd.DataFrame({"x": np.linspace(0.0, 1.0, 100), "g": ["a", "b"] * 50})
    current = pd.DataFrame({"x": [0.5] * 8 + [1.0 + 1 / 3, 2.123456789], "g": ["a"] * 9 + ["new"]})
    findings = compare_to_sketch(sketch_table(reference), current)
    assert "e.g. 1.33333, 2.12346." in find(findings, "x", "out_of_range").message
    assert "e.g. 'new'." in find(findings, "g", "new_categories").message
