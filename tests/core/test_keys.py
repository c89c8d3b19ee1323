from __future__ import annotations

import math

import numpy as np
import pytest

from keel.core.errors import InvalidInput
from keel.core.keys import check_key, metric_value, param_value, tag_value


@pytest.mark.parametrize("key", ["acc", "val/loss", "a.b-c_d:e", "with space", "_x", "9lives", "a" * 250])
def test_valid_keys(key: str) -> None:
    assert check_key("metric", key) == key


@pytest.mark.parametrize(
    "key", ["", " lead", "trail ", "semi;colon", "quote'", "a" * 251, "new\nline", "-x", 5, None]
)
def test_invalid_keys(key: object) -> None:
    with pytest.raises(InvalidInput):
        check_key("metric", key)


def test_metric_values() -> None:
    assert metric_value("m", 1) == 1.0
    assert math.isnan(metric_value("m", float("nan")))
    assert metric_value("m", np.float32(0.5)) == 0.5
    assert metric_value("m", np.int64(3)) == 3.0
    for bad in ("high", None, True, [1], b"1"):
        with pytest.raises(InvalidInput, match="not a number"):
            metric_value("m", bad)


def test_param_values_are_json_typed() -> None:
    assert param_value("p", "rf") == ("rf", "rf", None)
    assert param_value("p", 0.01) == (0.01, "0.01", 0.01)
    assert param_value("p", True)[1:] == ("true", None)
    assert param_value("p", {"b": 1, "a": [1, 2]})[1] == '{"a":[1,2],"b":1}'
    assert param_value("p", np.int64(4))[0] == 4
    assert param_value("p", (1, 2))[0] == [1, 2]
    with pytest.raises(InvalidInput, match="not JSON-typed"):
        param_value("p", object())
    with pytest.raises(InvalidInput, match="limit is 6000"):
        param_value("p", "x" * 6001)


def test_tag_values() -> None:
    assert tag_value("t", "a") == "a"
    assert tag_value("t", 3) == "3"
    assert tag_value("t", True) == "true"
    with pytest.raises(InvalidInput):
        tag_value("t", {"a": 1})


def test_a_keel_record_is_not_a_param_value_though_a_plain_named_tuple_is() -> None:
    from collections import namedtuple

    from keel.core.values import DatasetVersion

    version = DatasetVersion("data/raw", "ab" * 32, "dir", 10, 2)
    with pytest.raises(InvalidInput, match="DatasetVersion"):
        param_value("data", version)
    point = namedtuple("point", "x y")(1, 2)
    assert param_value("point", point)[:2] == ([1, 2], "[1,2]")


def test_json_output_writes_keel_records_as_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from keel.cli.render import emit_json
    from keel.core.values import DatasetVersion

    emit_json({"inputs": [DatasetVersion("data/raw", "ab" * 32, "dir", 10, 2)]})
    assert json.loads(capsys.readouterr().out)["inputs"][0]["path"] == "data/raw"
