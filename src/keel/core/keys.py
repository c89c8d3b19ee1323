"""Validation of the names and values users log (documented in docs/tracking.md).

Keys (params, metrics, tags) are 1–250 characters of letters, digits, ``_ - . / : `` and
spaces, starting with a letter, digit or ``_`` and not ending in a space; experiment and run
names are any 1–250 printable characters without surrounding spaces. Param values are JSON-typed; their JSON text is at most
6,000 characters. Tag values are strings of at most 5,000 characters. Metric values are
real numbers (NaN and ±infinity included).

Checks sit on the logging hot path, so a key seen once is remembered as valid.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from keel.core.errors import InvalidInput

KEY_MAX = 250
PARAM_VALUE_MAX = 6000
TAG_VALUE_MAX = 5000
NAME_MAX = 250
_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-./: ]{0,248}[A-Za-z0-9_\-./:])?\Z")
_valid_keys: set[str] = set()


def check_key(kind: str, key: Any) -> str:
    """Return ``key`` if it is a valid ``kind`` key (param, metric, tag), else raise."""
    if key in _valid_keys:
        return key  # type: ignore[no-any-return]
    if not isinstance(key, str):
        raise InvalidInput(f"{kind.capitalize()} key {key!r} must be a string, not {type(key).__name__}.")
    if len(key) > KEY_MAX:
        raise InvalidInput(
            f"{kind.capitalize()} key '{key[:40]}…' is {len(key)} characters long; the limit is {KEY_MAX}."
        )
    if _KEY.match(key) is None:
        raise InvalidInput(
            f"{kind.capitalize()} key {key!r} is not allowed; use letters, digits and _ - . / : "
            "or spaces, starting with a letter, digit or _ (see docs/tracking.md#names)."
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def check_name(kind: str, name: Any) -> str:
    """Validate an experiment or run name: 1–250 printable characters, no leading or
    trailing space (freer than keys: names are labels, never parts of a filter path)."""
    if not isinstance(name, str):
        raise InvalidInput(f"The {kind} {name!r} must be a string, not {type(name).__name__}.")
    if not name or len(name) > NAME_MAX or name != name.strip() or not name.isprintable():
        raise InvalidInput(
            f"The {kind} {name[:40]!r} is not allowed; use 1–{NAME_MAX} printable characters "
            "without leading or trailing spaces."
        )
    return name


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float, or raise naming the metric. NaN and infinities are kept."""
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str | bytes) or value is None or isinstance(value, bool):
        raise InvalidInput(
            f"Metric '{key}' value {value!r} is not a number; log numbers with log_metric "
            "and text with set_tag or log_text."
        )
    try:
        return float(value)  # numpy and other numeric scalars
    except (TypeError, ValueError):
        raise InvalidInput(
            f"Metric '{key}' value {value!r} ({type(value).__name__}) is not a number; "
            "log a single int or float per call."
        ) from None


def step_value(key: str, step: Any) -> int:
    if isinstance(step, int) and not isinstance(step, bool):
        if -(2**63) <= step < 2**63:
            return step
    elif hasattr(step, "__index__") and not isinstance(step, bool):
        return step_value(key, step.__index__())
    raise InvalidInput(f"Metric '{key}' step {step!r} must be a whole number (64-bit).")


def timestamp_value(key: str, timestamp: Any) -> float:
    from datetime import datetime

    if isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            raise InvalidInput(
                f"Metric '{key}' timestamp {timestamp.isoformat()} has no time zone; "
                "pass an aware datetime or seconds since the epoch."
            )
        return timestamp.timestamp()
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool) and math.isfinite(timestamp):
        return float(timestamp)
    raise InvalidInput(
        f"Metric '{key}' timestamp {timestamp!r} must be seconds since the epoch or an aware datetime."
    )


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON types; raise TypeError otherwise."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, list | tuple) and not hasattr(value, "to_dict"):  # not a Keel record
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"dictionary key {k!r} is not a string")
            out[k] = _jsonable(v)
        return out
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "shape", None) == ():
        return _jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist):
        return _jsonable(tolist())
    raise TypeError(f"{type(value).__name__} is not JSON-typed")


def param_value(key: str, value: Any) -> tuple[Any, str, float | None]:
    """Normalize a param value: (plain JSON value, text form, number or None).

    The text form of a string is the string itself; of anything else, its canonical JSON.
    That keeps ``params.model = 'rf'`` and ``params.lr = '0.01'`` matching what users expect.
    """
    kind = type(value)
    if kind is str or kind is int:  # fast paths for the common cases
        text = value if kind is str else str(value)
        if len(text) > PARAM_VALUE_MAX:
            raise _too_long(key, text)
        return value, text, None if kind is str else float(value)
    try:
        plain = _jsonable(value)
    except TypeError as exc:
        raise InvalidInput(
            f"Param '{key}' value of type {type(value).__name__} is not JSON-typed ({exc}); "
            "log strings, numbers, booleans, None, or lists and dicts of them."
        ) from None
    if isinstance(plain, float) and not math.isfinite(plain):
        text = json.dumps(plain)
    elif isinstance(plain, str):
        text = plain
    else:
        try:
            text = json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=True)
        except ValueError as exc:
            raise InvalidInput(f"Param '{key}' value cannot be stored: {exc}.") from None
    if len(text) > PARAM_VALUE_MAX:
        raise _too_long(key, text)
    number = float(plain) if isinstance(plain, int | float) and not isinstance(plain, bool) else None
    return plain, text, number


def _too_long(key: str, text: str) -> InvalidInput:
    return InvalidInput(
        f"Param '{key}' value is {len(text)} characters as JSON; the limit is "
        f"{PARAM_VALUE_MAX}. Log large values as an artifact with keel.log_dict."
    )


def tag_value(key: str, value: Any) -> str:
    """Tags are strings; numbers and booleans are stored as their JSON text."""
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        raise InvalidInput(
            f"Tag '{key}' value of type {type(value).__name__} is not allowed; "
            "tags are strings (log structured values as params or with keel.log_dict)."
        )
    if len(text) > TAG_VALUE_MAX:
        raise InvalidInput(f"Tag '{key}' value is {len(text)} characters; the limit is {TAG_VALUE_MAX}.")
    return text
