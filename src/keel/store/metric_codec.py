"""Packing metric points into chunks and back (see ``schema.metric_chunks``)."""

from __future__ import annotations

import sys
from array import array
from itertools import groupby
from operator import itemgetter
from typing import Any

_LITTLE = sys.byteorder == "little"
_by_series = itemgetter(0, 1)


def _bytes(values: array[Any]) -> bytes:
    if not _LITTLE:
        values.byteswap()
    return values.tobytes()


def _array(code: str, data: bytes) -> array[Any]:
    values = array(code)
    values.frombytes(data)
    if not _LITTLE:
        values.byteswap()
    return values


def pack(rows: list[tuple[str, str, int, float, float]]) -> list[tuple[Any, ...]]:
    """Rows of (run_id, key, step, timestamp, value) → one chunk row per (run_id, key):
    (run_id, key, count, min_step, max_step, steps, timestamps, values)."""
    ordered = sorted(rows, key=_by_series)  # stable, and linear for one series
    chunks = []
    for (run_id, key), group in groupby(ordered, key=_by_series):
        _, _, steps, stamps, values = zip(*group, strict=True)
        step_array = array("q", steps)
        chunks.append(
            (
                run_id,
                key,
                len(step_array),
                min(step_array),
                max(step_array),
                _bytes(step_array),
                _bytes(array("d", stamps)),
                _bytes(array("d", values)),
            )
        )
    return chunks


def unpack(steps: bytes, stamps: bytes, values: bytes) -> list[tuple[int, float, float]]:
    """One chunk's points as (step, timestamp, value)."""
    return list(zip(_array("q", steps), _array("d", stamps), _array("d", values), strict=True))
