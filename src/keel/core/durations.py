"""Durations as people write them: ``90s``, ``30m``, ``24h``, ``7d``, ``2w``."""

from __future__ import annotations

from keel.core.errors import InvalidInput

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def is_duration(text: str) -> bool:
    value = text.strip()
    return value[-1:] in UNITS and value[:-1].replace(".", "", 1).isdigit()


def parse_duration(text: str, what: str = "duration") -> float:
    """Seconds in ``text`` (a number and a unit: s, m, h, d or w)."""
    if not isinstance(text, str) or not is_duration(text):
        raise InvalidInput(
            f"{what} {text!r} is not a duration; use a number and a unit, e.g. 90s, 30m, 24h, 7d."
        )
    value = text.strip()
    seconds = float(value[:-1]) * UNITS[value[-1]]
    if seconds <= 0:
        raise InvalidInput(f"{what} {text!r} must be longer than zero.")
    return seconds
