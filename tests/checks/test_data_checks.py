"""Data checks: inferring schemas, validating every rule, bad schema files, CLI, records."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import keel
from keel.checks.data_check import validate_frame
from keel.checks.schema import infer_schema, load_schema, render_schema, schema_from_dict
from keel.core.errors import ConfigError, InvalidInput
from tests.conftest import run_keel


@pytest.fixture
def orders() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame(
        {
            "order_id": np.arange(n),
            "amount": rng.gamma(2.0, 30.0, n).round(2),
            "items": rng.integers(1, 9, n),
            "country": rng.choice(["DE", "FR", "NL"], n),
            "coupon": np.where(rng.random(n) < 0.2, None, "SPRING"),
            "paid": rng.random(n) < 0.9,
            "placed": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "email": [f"user{i}@example.com" for i in range(n)],
        }
    )


def _failed(report: Any) -> dict[tuple[str | None, str], int | None]:
    return {(r.column, r.rule): r.failing for r in report.failures}


def test_inferred_schema_passes_its_data_and_round_trips_through_yaml(
    tmp_path: Path, orders: pd.DataFrame
) -> None:
    schema = infer_schema(orders, data="data/orders.csv")
    by_name = {c.name: c for c in schema.columns}
    assert by_name["order_id"].type == "integer" and by_name["order_id"].unique
    assert by_name["amount"].type == "float" and by_name["amount"].min == orders["amount"].min()
    assert by_name["country"].categories == ("DE", "FR", "NL")
    assert by_name["coupon"].nullable and by_name["coupon"].categories == ("SPRING",)
    assert by_name["paid"].type == "boolean"
    assert by_name["placed"].type == "datetime"
    assert by_name["email"].categories is None and not by_name["email"].unique  # not id-like by name
    assert (schema.rows_min, schema.rows_max) == (200, 800)
    text = render_schema(schema, "data/orders.csv", len(orders))
    assert text.startswith("# Keel data schema") and "keel check data data/orders.csv" in text
    path = tmp_path / "orders.schema.yaml"
    path.write_text(text)
    loaded = load_schema(path)
    assert [c.to_dict() for c in loaded.columns] == [c.to_dict() for c in schema.columns]
    report = validate_frame(orders, loaded)
    assert report.passed and report.status == "passed" and not report.failures
    assert len(report.results) > 3 * len(orders.columns)


def test_every_rule_finds_its_failures_with_counts_and_samples(orders: pd.DataFrame) -> None:
    schema = infer_schema(orders)
    bad = orders.copy()
    bad.loc[[3, 9], "amount"] = [-5.0, 1e6]
    bad.loc[4, "country"] = "XX"
    bad.loc[5, "order_id"] = 6
    bad["items"] = bad["items"].astype(object)
    bad.loc[7, "items"] = "many"
    bad["paid"] = bad["paid"].astype(object)
    bad.loc[8, "paid"] = None
    bad["extra"] = 1
    report = validate_frame(bad, schema, subject="orders")
    failed = _failed(report)
    assert failed == {
        ("amount", "min"): 1,
        ("amount", "max"): 1,
        ("country", "categories"): 1,
        ("order_id", "unique"): 2,
        ("items", "type"): 1,
        ("paid", "not_null"): 1,
        ("extra", "unexpected_column"): None,
    }
    by_rule = {(r.column, r.rule): r for r in report.failures}
    assert by_rule[("amount", "max")].samples == [{"row": 9, "value": 1e6}]
    assert by_rule[("country", "categories")].samples == [{"row": 4, "value": "XX"}]
    assert [s["row"] for s in by_rule[("order_id", "unique")].samples] == [5, 6]
    assert by_rule[("amount", "min")].fraction == pytest.approx(1 / 400)
    assert "1 of 400 values" in by_rule[("amount", "max")].message
    assert not report.passed and report.status == "failed"


def test_mostly_severity_nulls_patterns_and_rows() -> None:
    frame = pd.DataFrame({"code": ["A-1", "A-2", "B-3", "zz", None], "score": [1.0, 2.0, None, None, 5.0]})
    schema = schema_from_dict(
        {
            "rows": {"min": 10},
            "columns": {
                "code": {"type": "string", "pattern": "[A-Z]-[0-9]", "nullable": True, "mostly": 0.7},
                "score": {"type": "float", "max_null_fraction": 0.2, "severity": "warn"},
            },
        }
    )
    report = validate_frame(frame, schema)
    results = {(r.column, r.rule): r for r in report.results}
    assert results[("code", "pattern")].passed and results[("code", "pattern")].failing == 1  # 1 of 4 ≤ 30%
    assert not results[(None, "rows")].passed and "5 rows" in results[(None, "rows")].message
    nulls = results[("score", "max_null_fraction")]
    assert not nulls.passed and nulls.severity == "warn" and nulls.value == pytest.approx(0.4)
    assert [r.rule for r in report.failures] == ["rows"] and [r.rule for r in report.warnings] == [
        "max_null_fraction"
    ]
    strict = schema_from_dict(
        {"columns": {"code": {"type": "string", "pattern": "[A-Z]-[0-9]", "nullable": True}}}
    )
    assert _failed(validate_frame(frame.drop(columns="score"), strict)) == {("code", "pattern"): 1}


def test_types_are_checked_value_by_value_without_loops() -> None:
    frame = pd.DataFrame(
        {
            "n": pd.Series([1, 2.5, "3", True, None], dtype=object),
            "when": ["2024-01-02", "yesterday", None, "2024-02-30", "2024-03-01T10:00:00"],
            "flag": pd.Series([True, False, "yes", None, True], dtype=object),
            "name": pd.Series(["a", 1, None, "b", "c"], dtype=object),
        }
    )
    schema = schema_from_dict(
        {
            "strict": False,
            "columns": {
                "n": {"type": "integer", "nullable": True},
                "when": {"type": "datetime", "nullable": True, "min": "2024-01-01"},
                "flag": {"type": "boolean", "nullable": True},
                "name": {"type": "string", "nullable": True},
            },
        }
    )
    failed = _failed(validate_frame(frame, schema))
    # 2.5 is not whole, "3" is text and True a boolean: only real numbers are integers
    assert failed == {("n", "type"): 3, ("when", "type"): 2, ("flag", "type"): 1, ("name", "type"): 1}


def test_missing_column_duplicate_names_and_empty_data() -> None:
    schema = schema_from_dict({"rows": {"min": 1}, "columns": {"a": {"type": "integer"}, "b": {}}})
    report = validate_frame(pd.DataFrame({"a": [1, 2]}), schema)
    assert _failed(report) == {("b", "missing_column"): None}
    empty = validate_frame(pd.DataFrame({"a": pd.Series([], dtype=int), "b": []}), schema)
    assert _failed(empty) == {(None, "rows"): None}
    twice = pd.DataFrame([[1, 2]], columns=["a", "a"]).assign(b=1)
    assert ("a", "duplicate_column") in _failed(validate_frame(twice, schema))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("columns: {a: {type: number}}", "schema.yaml:1: type 'number' is not one of integer, float"),
        ("columns:\n  a:\n    min: 3\n    max: 1\n", "schema.yaml:3: min 3 is above max 1"),
        ("columns:\n  a: {colour: red}\n", "schema.yaml:2: unknown rule 'colour'"),
        ("columns: {a: {mostly: 1.5}}", "mostly is a fraction between 0 and 1"),
        ("columns: {a: {pattern: '('}}", "is not a valid regular expression"),
        ("colums: {a: {}}", "schema.yaml:1: unknown key 'colums'"),
        ("format: 9\ncolumns: {a: {}}", "schema.yaml:1: format 9 is not one this Keel reads"),
        ("rows: 10\ncolumns: {a: {}}", "'rows' is a band like {min: 100, max: 10000}"),
        ("columns: {}", "'columns' maps each column name to its rules"),
        ("columns: {a: {severity: loud}}", "severity 'loud' is not one of fail, warn"),
        ("columns: {a: {type: string, min: 1}}", "min does not apply to string columns"),
        ("columns: {a: {type: datetime, min: someday}}", "'someday' is not a date or time"),
        ("columns: [a", "not valid YAML"),
    ],
)
def test_bad_schema_files_name_file_line_and_fix(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_schema(path)
    assert expected in str(caught.value)


def test_check_data_api_takes_frames_paths_and_dicts(project: Path, orders: pd.DataFrame) -> None:
    (project / "data").mkdir(exist_ok=True)
    orders.to_parquet(project / "data" / "orders.parquet")
    schema = {"columns": {c: {"nullable": c == "coupon"} for c in orders.columns}, "rows": {"min": 1}}
    assert keel.check_data(orders, schema).passed
    report = keel.check_data("data/orders.parquet", schema, record=True)
    assert report.passed and report.run_id is not None and report.subject == "data/orders.parquet"
    assert report.subject_id is not None
    with pytest.raises(InvalidInput, match="does not exist"):
        keel.check_data("data/nope.csv", schema)
    with pytest.raises(InvalidInput, match="DataFrame or a path"):
        keel.check_data(42, schema)
    with pytest.raises(InvalidInput, match="A schema is a file path"):
        keel.check_data(orders, 3.5)  # type: ignore[arg-type]


def test_cli_infer_check_junit_json_and_history(project: Path, orders: pd.DataFrame) -> None:
    data = project / "data"
    data.mkdir(exist_ok=True)
    orders.to_csv(data / "orders.csv", index=False)
    inferred = run_keel("check", "infer", "data/orders.csv", cwd=project)
    assert inferred.returncode == 0, inferred.stderr
    schema = project / "checks" / "orders.schema.yaml"
    assert schema.is_file() and "Wrote checks/orders.schema.yaml" in inferred.stdout
    again = run_keel("check", "infer", "data/orders.csv", cwd=project)
    assert again.returncode == 4 and "--force" in again.stderr and "Traceback" not in again.stderr
    printed = run_keel("check", "infer", "data/orders.csv", "-o", "-", cwd=project)
    assert printed.stdout.startswith("# Keel data schema")

    ok = run_keel("check", "data", "data/orders.csv", "--schema", str(schema), "--json", cwd=project)
    assert ok.returncode == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["status"] == "passed" and body["run_id"] and body["subject"] == "data/orders.csv"

    broken = orders.copy()
    broken.loc[2, "country"] = "XX"
    broken.to_csv(data / "orders.csv", index=False)
    junit = project / "reports" / "orders.xml"
    failed = run_keel(
        "check", "data", "data/orders.csv", "--schema", str(schema), "--junit", str(junit), cwd=project
    )
    assert failed.returncode == 1
    assert "country: 1 of 400 values (0.25%) are not one of the 3 allowed categories" in failed.stdout
    assert "row 2: 'XX'" in failed.stdout
    tree = ET.parse(junit).getroot()
    assert tree.get("failures") == "1"
    failures = tree.findall(".//failure")
    assert len(failures) == 1 and failures[0].get("type") == "categories"

    history = run_keel("check", "history", "data/orders.csv", "--json", cwd=project)
    statuses = [r["status"] for r in json.loads(history.stdout)]
    assert statuses == ["failed", "passed"]
    however = run_keel("check", "history", "./data/../data/orders.csv", "--json", cwd=project)
    assert [r["status"] for r in json.loads(however.stdout)] == [
        "failed",
        "passed",
    ]  # one path, however written
    shown = run_keel("runs", "show", body["run_id"], "--json", cwd=project)
    assert shown.returncode == 0
    run = json.loads(shown.stdout)
    assert run["kind"] == "check" and run["metrics"]["check.failed"] == 0

    for args, code, message in (
        (("check", "data", "data/none.csv", "--schema", str(schema)), 2, "does not exist"),
        (("check", "data", "data/orders.csv", "--schema", "checks/none.yaml"), 2, "does not exist"),
        (("check", "infer", "keel.yaml"), 2, "unknown format"),
        (("check", "data", "data/orders.csv"), 2, "--schema"),
    ):
        result = run_keel(*args, cwd=project)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
    (data / "empty.csv").write_text("")
    empty = run_keel("check", "infer", "data/empty.csv", cwd=project)
    assert empty.returncode == 2 and "Cannot read" in empty.stderr


def test_large_integers_compare_exactly_and_categories_match_across_kinds() -> None:
    big = 1_700_000_000_000_000_000
    frame = pd.DataFrame({"ns": np.array([big, big + 100], dtype=np.int64), "grade": [1, 2]})
    schema = schema_from_dict(
        {
            "columns": {
                "ns": {"type": "integer", "max": big},
                "grade": {"type": "integer", "categories": ["1", "2"]},
            }
        }
    )
    report = validate_frame(frame, schema)
    assert _failed(report) == {("ns", "max"): 1}
    assert report.failures[0].samples == [{"row": 1, "value": big + 100}]
    nullable = pd.DataFrame({"n": pd.array([1, None, 2**60], dtype="Int64")})
    rules = schema_from_dict({"columns": {"n": {"type": "integer", "nullable": True, "max": 2**60 - 1}}})
    assert _failed(validate_frame(nullable, rules)) == {("n", "max"): 1}


def test_inference_round_trips_awkward_columns(tmp_path: Path) -> None:
    """Whatever inference writes, the same data passes it: long and odd names, mixed values,
    infinities, durations, decimals, bytes, lists, time zones."""
    import decimal

    long_name = "a very long column name with spaces that goes on and on past eighty characters, surely"
    frame = pd.DataFrame(
        {
            long_name: [1, 2, 3],
            "line\nbreak": [1.0, 2.0, 3.0],
            "key: with colon": ["a", "b", "a"],
            "- dash": [1, 1, 2],
            "mixed": pd.Series([1, "two", 3.5], dtype=object),
            "inf": [float("-inf"), 1.0, float("inf")],
            "delta": pd.to_timedelta([1, 2, 3], unit="s"),
            "money": [decimal.Decimal("1.10"), decimal.Decimal("2.20"), None],
            "raw": [b"a", b"b", b"a"],
            "items": [[1], [2, 3], []],
            "zoned": pd.to_datetime(
                ["2024-01-01T00:00:00+01:00", "2024-06-01T00:00:00+02:00", None], utc=True
            ),
        }
    )
    schema = infer_schema(frame)
    path = tmp_path / "awkward.schema.yaml"
    path.write_text(render_schema(schema, "awkward", len(frame)))
    loaded = load_schema(path)
    assert [c.name for c in loaded.columns] == list(frame.columns)
    report = validate_frame(frame, loaded)
    assert report.passed, [r.message for r in report.failures]
    by_name = {c.name: c for c in loaded.columns}
    assert by_name["mixed"].type is None and by_name["items"].type is None
    assert by_name["inf"].type is None  # infinities are not floats to a schema: no type, no range


def test_duplicate_keys_untyped_bounds_and_unwritable_junit(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.schema.yaml"
    path.write_text("columns:\n  id: {type: integer, min: 0}\n  id: {type: string}\n")
    with pytest.raises(ConfigError, match="dup.schema.yaml:3: key 'id' appears twice"):
        load_schema(path)
    frame = pd.DataFrame({"age": [1, 2], "when": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    schema = schema_from_dict({"columns": {"age": {"min": "2024-01-01"}, "when": {"min": 5}}})
    report = validate_frame(frame, schema)
    assert {(r.column, r.rule) for r in report.failures} == {("age", "min"), ("when", "min")}
    assert "give the column a type" in report.failures[0].message
    frame.to_csv(project / "t.csv", index=False)
    (project / "t.schema.yaml").write_text("columns: {age: {type: integer}, when: {type: datetime}}\n")
    result = run_keel(
        "check", "data", "t.csv", "--schema", "t.schema.yaml", "--junit", "/proc/nope/x.xml", cwd=project
    )
    assert result.returncode == 2 and "Cannot write the JUnit report" in result.stderr
    assert "PASSED" in result.stdout  # the result is shown before the report is written
