"""Shared options and option parsing for CLI commands."""

from __future__ import annotations

import json
from typing import Any

import click

from keel.core.errors import InvalidInput

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
)


def key_values(items: tuple[str, ...], option: str, parse_json: bool = False) -> dict[str, Any]:
    """``("a=1", "b=x")`` → ``{"a": 1, "b": "x"}`` (values parsed as JSON when asked and possible)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{option} {item!r} must look like KEY=VALUE.")
        value: Any = raw
        if parse_json:
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        out[key] = value
    return out
