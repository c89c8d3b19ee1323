"""Reference sketches: kinds, exact statistics, merging, and the JSON form."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from keel.checks.sketch import ColumnSketch, TableSketch, sketch_table
from keel.core.errors import InvalidInput


def rank_error(values: np.ndarray, quantiles: tuple[float, ...]) -> float:
    """The largest distance, in rank (0..1), between each quantile point and its target rank.

    A point repeated over a run of equal values may sit anywhere in that run.
    """
    ordered = np.sort(values)
    n = len(ordered)
    points = np.asarray(quantiles)
    low = np.searchsorted(ordered, points, side="left") / (n - 1)
    high = (np.searchsorted(ordered, points, side="right") - 1) / (n - 1)
    target = np.linspace(0, 1, len(points))
    return float(np.max(np.maximum(0, np.maximum(low - target, target - high))))


# kinds and per-kind statistics


def test_kinds_are_inferred_and_can_be_overridden() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "number": rng.normal(size=100),
            "count": rng.integers(0, 5, size=100),
            "city": pd.Series(rng.choice(["Oslo", "Lima", "Pune"], size=100), dtype="str"),
            "flag": rng.random(100) < 0.3,
            "when": pd.date_range("2024-01-01", periods=100, freq="h"),
            "review": [f"review number {i} which says something long about the product" for i in range(100)],
        }
    )
    sketch = sketch_table(frame)
    assert {n: c.kind for n, c in sketch.columns.items()} == {
        "number": "numeric",
        "count": "numeric",
        "city": "categorical",
        "flag": "boolean",
        "when": "datetime",
        "review": "text",
    }
    overridden = sketch_table(frame, kinds={"count": "categorical", "review": "categorical"})
    assert overridden.columns["count"].kind == "categorical"
    assert sum(overridden.columns["count"].categories.values()) == 100
    assert overridden.columns["review"].kind == "categorical"


def test_numeric_sketch_holds_exact_statistics() -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=10_000)
    column = pd.Series(np.concatenate([values, [np.nan] * 7, [np.inf, -np.inf]]))
    sketch = sketch_table(pd.DataFrame({"x": column})).columns["x"]
    assert (sketch.count, sketch.nulls, sketch.infinite, sketch.finite) == (10_002, 7, 2, 10_000)
    assert len(sketch.quantiles) == 256
    assert sketch.quantiles[0] == sketch.min == values.min()
    assert sketch.quantiles[-1] == sketch.max == values.max()
    assert sketch.mean == pytest.approx(values.mean(), rel=1e-12)
    assert sketch.std == pytest.approx(values.std(), rel=1e-12)
    assert rank_error(values, sketch.quantiles) <= 0.5 / 9_999
    assert not sketch.exact
    # the distribution function is within 1/(k-1) of the empirical one everywhere
    probe = np.quantile(values, np.linspace(0, 1, 1001))
    empirical = np.searchsorted(np.sort(values), probe, side="right") / len(values)
    assert np.max(np.abs(sketch.cdf(probe) - empirical)) <= 1 / 255


def test_small_columns_are_kept_whole() -> None:
    values = np.array([3.0, 1.0, 2.0, 2.0, 5.0])
    sketch = sketch_table(pd.DataFrame({"x": values})).columns["x"]
    assert sketch.exact and sketch.quantiles == (1.0, 2.0, 2.0, 3.0, 5.0)
    assert sketch.cdf([0.5, 1.0, 2.0, 2.5, 5.0]).tolist() == [0.0, 0.2, 0.6, 0.6, 1.0]
    assert sketch.cdf([2.0], side="left").tolist() == [0.2]
    assert sketch.quantile([0.0, 0.5, 1.0]).tolist() == [1.0, 2.0, 5.0]


def test_categorical_boolean_and_datetime_sketches() -> None:
    frame = pd.DataFrame(
        {
            "grade": pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5 + [None] * 10, dtype="str"),
            "flag": pd.array([True] * 70 + [False] * 30 + [None] * 10, dtype="boolean"),
            "code": [1.0] * 60 + [2.0] * 40 + [np.nan] * 10,
            "when": pd.to_datetime(["2024-01-01T00:00:00+01:00"] * 100 + [None] * 10, utc=True),
        }
    )
    sketch = sketch_table(frame, kinds={"code": "categorical"}, max_categories=2)
    grade = sketch.columns["grade"]
    assert (grade.count, grade.nulls, grade.categories, grade.other) == (100, 10, {"a": 50, "b": 30}, 20)
    assert sketch.columns["flag"].categories == {"True": 70, "False": 30}
    assert sketch.columns["code"].categories == {"1": 60, "2": 40}  # whole floats print as integers
    when = sketch.columns["when"]
    assert (
        when.kind == "datetime" and when.min == when.max == pd.Timestamp("2023-12-31T23:00:00Z").timestamp()
    )
    assert when.nulls == 10


def test_empty_constant_and_all_null_columns() -> None:
    frame = pd.DataFrame({"constant": [4.0] * 1000, "empty": [np.nan] * 1000, "none": [None] * 1000})
    sketch = sketch_table(frame)
    constant = sketch.columns["constant"]
    assert constant.std == 0.0 and set(constant.quantiles) == {4.0}
    assert constant.cdf([3.9, 4.0]).tolist() == [0.0, 1.0]
    assert sketch.columns["empty"].count == 0 and sketch.columns["empty"].quantiles == ()
    assert sketch.columns["none"].count == 0
    empty = sketch_table(frame.iloc[:0])
    assert empty.rows == 0 and empty.columns["constant"].count == 0


def test_bad_arguments_are_refused() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidInput, match="kinds= names column 'y'"):
        sketch_table(frame, kinds={"y": "numeric"})
    with pytest.raises(InvalidInput, match="kind 'number'"):
        sketch_table(frame, kinds={"x": "number"})
    with pytest.raises(InvalidInput, match="resolution must be a whole number of at least 2"):
        sketch_table(frame, resolution=1)
    with pytest.raises(InvalidInput, match="give a pandas DataFrame"):
        sketch_table([1, 2])  # type: ignore[arg-type]


# merging


@pytest.mark.parametrize("family", ["normal", "lognormal", "counts", "uniform"])
def test_merged_sketch_matches_the_sketch_of_the_whole(family: str) -> None:
    rng = np.random.default_rng(2)
    draw = {
        "normal": lambda n: rng.normal(3, 2, n),
        "lognormal": lambda n: rng.lognormal(0, 1.5, n),
        "counts": lambda n: rng.poisson(3, n).astype(float),
        "uniform": lambda n: rng.uniform(-1, 1, n),
    }[family]
    a, b = draw(30_000), draw(170_000) + (0.5 if family != "counts" else 0)  # parts need not look alike
    whole = np.concatenate([a, b])
    merged = sketch_table(pd.DataFrame({"x": a})).merge(sketch_table(pd.DataFrame({"x": b}))).columns["x"]
    direct = sketch_table(pd.DataFrame({"x": whole})).columns["x"]
    assert (merged.count, merged.nulls, merged.min, merged.max) == (
        direct.count,
        direct.nulls,
        direct.min,
        direct.max,
    )
    assert merged.mean == pytest.approx(direct.mean, rel=1e-12, abs=1e-12)
    assert merged.std == pytest.approx(direct.std, rel=1e-12)
    assert len(merged.quantiles) == 256
    assert rank_error(whole, merged.quantiles) <= 1 / 256


def test_many_merges_stay_close() -> None:
    rng = np.random.default_rng(3)
    parts = [rng.lognormal(0, 1, 5_000) for _ in range(30)]
    merged = sketch_table(pd.DataFrame({"x": parts[0]}))
    for part in parts[1:]:
        merged = merged.merge(sketch_table(pd.DataFrame({"x": part})))
    assert merged.rows == 150_000
    assert rank_error(np.concatenate(parts), merged.columns["x"].quantiles) <= 2 / 256


def test_small_parts_merge_exactly_and_categories_add_up() -> None:
    a = pd.DataFrame({"x": [1.0, 5.0, np.nan], "c": ["a", "b", None]})
    b = pd.DataFrame({"x": [3.0, 2.0], "c": ["b", "c"]})
    merged = sketch_table(a).merge(sketch_table(b))
    x = merged.columns["x"]
    assert x.exact and x.quantiles == (1.0, 2.0, 3.0, 5.0) and (x.count, x.nulls) == (4, 1)
    assert merged.columns["c"].categories == {"b": 2, "a": 1, "c": 1}
    assert merged.columns["c"].nulls == 1
    # the top-k cut: what each part dropped joins "other"
    first = pd.DataFrame({"c": ["a", "b", "b"]})
    second = pd.DataFrame({"c": ["b", "b", "c"]})
    cut = sketch_table(first, max_categories=1).merge(sketch_table(second, max_categories=1)).columns["c"]
    assert (cut.categories, cut.other, cut.count) == ({"b": 4}, 2, 6)


def test_a_part_with_no_values_takes_the_other_parts_kind() -> None:
    values = pd.DataFrame({"x": ["a", "b", "a"]})
    nothing = pd.DataFrame({"x": [np.nan, np.nan]})
    merged = sketch_table(nothing).merge(sketch_table(values)).columns["x"]
    assert merged.kind == "categorical" and merged.categories == {"a": 2, "b": 1} and merged.nulls == 2


def test_merge_refuses_different_columns_and_kinds() -> None:
    with pytest.raises(InvalidInput, match="different columns"):
        sketch_table(pd.DataFrame({"x": [1.0]})).merge(sketch_table(pd.DataFrame({"y": [1.0]})))
    with pytest.raises(InvalidInput, match="numeric in one sketch and categorical in the other"):
        sketch_table(pd.DataFrame({"x": [1.0]})).merge(sketch_table(pd.DataFrame({"x": ["a"]})))


# JSON


def test_json_round_trip_uses_plain_types() -> None:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "x": np.append(rng.normal(size=999), np.nan),
            "huge": [1e308, -1e308] * 500,  # std overflows: stored as None, never NaN
            "c": rng.choice(["a", "b"], size=1000),
            "t": pd.date_range("2024-01-01", periods=1000, freq="min"),
            "empty": [np.nan] * 1000,
        }
    )
    sketch = sketch_table(frame)
    text = json.dumps(sketch.to_dict(), allow_nan=False)
    body = json.loads(text)
    assert body["format"] == 1
    assert TableSketch.from_dict(body) == sketch
    assert sketch.columns["huge"].std is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"format": 2, "rows": 1, "columns": []}, "format 2"),
        ({"rows": 1, "columns": []}, "format None"),
        ({"format": 1, "columns": []}, "incomplete or malformed"),
        ({"format": 1, "rows": 1, "columns": [{"name": "x", "kind": "numeric"}]}, "incomplete or malformed"),
        (
            {"format": 1, "rows": 1, "columns": [{"name": "x", "kind": "vector", "count": 1, "nulls": 0}]},
            "vector",
        ),
        (
            {
                "format": 1,
                "rows": 1,
                "columns": [{"name": "x", "kind": "numeric", "count": 2, "nulls": 0, "quantiles": [2, 1]}],
            },
            "out of order",
        ),
    ],
)
def test_bad_json_is_refused_in_one_line(body: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        TableSketch.from_dict(body)
    assert "\n" not in str(caught.value)


def test_column_sketch_round_trip() -> None:
    column = ColumnSketch("x", "categorical", 3, 1, categories={"a": 2}, other=1)
    assert ColumnSketch.from_dict(json.loads(json.dumps(column.to_dict()))) == column


# speed


@pytest.mark.slow
def test_a_million_rows_by_twenty_columns_sketch_quickly() -> None:
    rng = np.random.default_rng(5)
    rows = 1_000_000
    labels = np.array([f"category_{i}" for i in range(30)], dtype=object)
    frame = pd.DataFrame(
        {f"n{i}": rng.normal(size=rows) for i in range(15)}
        | {f"c{i}": pd.Series(labels[rng.integers(0, 30, rows)], dtype="str") for i in range(5)}
    )
    sketch_table(frame.iloc[:1000])  # imports
    started = time.perf_counter()
    sketch_table(frame)
    assert time.perf_counter() - started < 2.0  # ~0.5 s on two cores; generous for loaded machines


def test_whole_float_categories_keep_their_keys_whatever_else_the_sample_holds() -> None:
    import pandas as pd

    from keel.checks.sketch import sketch_table
    from keel.monitor.drift import detect_drift

    reference = pd.DataFrame({"rating": [1.0, 2.0, 3.0] * 1000})
    current = pd.DataFrame({"rating": [1.0, 2.0, 3.0] * 1000 + [2.5]})
    sketch = sketch_table(reference, kinds={"rating": "categorical"})
    assert set(sketch.columns["rating"].categories) == {"1", "2", "3"}
    assert set(sketch_table(current, kinds={"rating": "categorical"}).columns["rating"].categories) == {
        "1",
        "2",
        "3",
        "2.5",
    }
    assert not detect_drift(sketch, current).columns[0].drifted
