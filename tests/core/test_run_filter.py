from __future__ import annotations

import pytest

from keel.core.errors import InvalidInput
from keel.core.run_filter import (
    BoolOp,
    Comparison,
    Field,
    Membership,
    Not,
    NullCheck,
    parse_filter,
    parse_order_by,
)


def test_simple_and() -> None:
    node = parse_filter("metrics.acc > 0.5 and params.model = 'rf'")
    assert node == BoolOp(
        "and",
        (
            Comparison(Field("metric", "acc"), ">", 0.5),
            Comparison(Field("param", "model"), "=", "rf"),
        ),
    )


def test_precedence_and_binds_tighter_than_or() -> None:
    node = parse_filter("metrics.a > 1 or metrics.b > 2 and metrics.c > 3")
    assert isinstance(node, BoolOp) and node.op == "or"
    assert isinstance(node.items[1], BoolOp) and node.items[1].op == "and"


def test_parentheses_and_not() -> None:
    node = parse_filter("not (tags.team = 'a' or tags.team = 'b')")
    assert isinstance(node, Not)
    assert isinstance(node.item, BoolOp) and node.item.op == "or"


def test_in_like_null_and_keywords_case_insensitive() -> None:
    node = parse_filter(
        "params.model IN ('rf', \"gb\") AND tags.owner LIKE 'ml-%' AND metrics.loss IS NOT NULL"
    )
    assert isinstance(node, BoolOp)
    assert node.items[0] == Membership(Field("param", "model"), ("rf", "gb"), False)
    assert node.items[1] == Comparison(Field("tag", "owner"), "like", "ml-%")
    assert node.items[2] == NullCheck(Field("metric", "loss"), True)


def test_quoted_keys_and_keys_with_symbols() -> None:
    assert parse_filter('metrics."val loss" < 1') == Comparison(Field("metric", "val loss"), "<", 1.0)
    assert parse_filter("metrics.`val loss` < 1") == Comparison(Field("metric", "val loss"), "<", 1.0)
    assert parse_filter("metrics.val/acc>=0.9") == Comparison(Field("metric", "val/acc"), ">=", 0.9)


def test_operators_normalized() -> None:
    assert parse_filter("params.a == 'x'") == Comparison(Field("param", "a"), "=", "x")
    assert parse_filter("params.a <> 'x'") == Comparison(Field("param", "a"), "!=", "x")


def test_attributes_bare_and_prefixed_and_times() -> None:
    assert parse_filter("status = 'failed'") == Comparison(Field("attribute", "status"), "=", "failed")
    node = parse_filter("attributes.start_time >= '2026-01-01'")
    assert isinstance(node, Comparison) and node.value == 1767225600.0


def test_not_like_and_not_in() -> None:
    assert parse_filter("tags.x not like 'a%'") == Not(Comparison(Field("tag", "x"), "like", "a%"))
    assert parse_filter("params.x not in (1, 2)") == Membership(Field("param", "x"), (1.0, 2.0), True)


def test_string_escapes() -> None:
    assert parse_filter("params.name = 'it''s'") == Comparison(Field("param", "name"), "=", "it's")
    assert parse_filter(r"params.name = 'it\'s'") == Comparison(Field("param", "name"), "=", "it's")


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("metrics.acc >", 14, "expected a value"),
        ("metrics.acc > and", 15, "expected a value"),
        ("metrics.acc 0.5", 13, "comparison operator"),
        ("(metrics.acc > 1", 17, "never closed"),
        ("metrics.acc > 1)", 16, "no matching"),
        ("acc > 1", 1, "unknown field 'acc'"),
        ("foo.acc > 1", 1, "unknown field prefix"),
        ("metrics.acc > 'high'", 15, "compare it with a number"),
        ("attributes.colour = 'red'", 1, "unknown attribute"),
        ("status = 'sleeping'", 10, "unknown status"),
        ("params.a = 'unclosed", 12, "never closed"),
        ("metrics.acc > 1 metrics.b > 2", 17, "expected 'and', 'or'"),
        ("", 1, "empty"),
        ("attributes.start_time > 'yesterday'", 25, "not a time"),
        ("metrics.acc like 'a%'", 13, "compares text"),
        ("params.a in 'x'", 13, "expected '('"),
        ("params.a = 1 and", 17, "expected a field"),
        ("params.a ~ 1", 10, "unexpected character"),
    ],
)
def test_malformed_filters_point_at_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    message = str(info.value)
    assert f"column {column} " in message, message
    assert fragment in message
    assert "\n" not in message
    assert info.value.details["position"] == column - 1


def test_order_by() -> None:
    keys = parse_order_by(["metrics.acc desc", "-params.lr", "attributes.start_time ASC"])
    assert [(k.field.key, k.descending) for k in keys] == [("acc", True), ("lr", True), ("start_time", False)]
    with pytest.raises(InvalidInput, match="expected 'asc', 'desc'"):
        parse_order_by("metrics.acc sideways")
    with pytest.raises(InvalidInput, match="empty"):
        parse_order_by("  ")
