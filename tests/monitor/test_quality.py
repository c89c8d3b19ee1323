"""Monitoring's data quality: the rules of `keel check compare`, at their default limits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.checks.compare import CompareOptions, compare_to_sketch
from keel.checks.sketch import sketch_table
from keel.monitor.evaluate import evaluate
from keel.monitor.reference import Reference


def test_quality_findings_are_the_compare_rules_without_a_distribution_test() -> None:
    rng = np.random.default_rng(11)
    rows = 2_000
    reference = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "y": rng.normal(size=rows),
            "g": rng.choice(["a", "b"], rows),
            "code": pd.Categorical(rng.choice([1, 2, 3], rows)),
            "gone": rng.normal(size=rows),
        }
    )
    current = reference.drop(columns="gone").sample(500, random_state=1).reset_index(drop=True)
    current["x"] = current["x"].astype(object)
    current.loc[:49, "x"] = None  # 10% missing
    current.loc[50:59, "x"] = 99.0  # 2% of the rest out of range
    current["y"] = "n/a"  # no longer numbers
    current.loc[:9, "g"] = "c"  # a new category
    current["code"] = current["code"].astype(float)  # the same categories, as floats
    sketch = sketch_table(reference)

    report = evaluate(Reference("train", sketch, "0" * 64), current, title="t", current_label="now")

    rules = compare_to_sketch(sketch, current, options=CompareOptions(tests=()))
    assert report.quality == [finding.to_dict() for finding in rules]
    assert "distribution" not in {q["rule"] for q in report.quality}
    failed = {(q["column"], q["rule"]) for q in report.quality if not q["passed"]}
    assert failed == {
        ("x", "missing_rate"),
        ("x", "out_of_range"),
        ("y", "type_changed"),
        ("g", "new_categories"),
        ("gone", "missing_column"),
    }
    limits = {q["rule"]: q["threshold"] for q in report.quality}
    assert (limits["missing_rate"], limits["out_of_range"], limits["new_categories"]) == (0.05, 0.01, 0.0)
    new = next(q for q in report.quality if q["rule"] == "new_categories")
    assert new["samples"] == ["c"] and new["value"] == 10 / 500


def test_an_empty_reference_has_no_quality_findings() -> None:
    from keel.monitor.evaluate import quality_findings

    empty = sketch_table(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    assert quality_findings(empty, pd.DataFrame({"x": [1.0, 2.0]}), ["x"]) == []
