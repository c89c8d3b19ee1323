"""Reading the columns of a table: names, kinds, numbers, value counts, a few threads.

The helpers the reference sketch (:mod:`keel.checks.sketch`), the train/serve rules
(:mod:`keel.checks.compare`) and the drift tests share: every one reads a column with one
vectorized NumPy or pandas pass, and :func:`map_columns` spreads the columns of a large table
over a few threads (NumPy's sort and searchsorted and pandas' hashing release the GIL).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

#: Tables of at least this many cells are read on up to MAX_THREADS threads.
PARALLEL_CELLS = 1_000_000
MAX_THREADS = 8

_Job = TypeVar("_Job")
_Result = TypeVar("_Result")


def map_columns(work: Callable[[_Job], _Result], jobs: Sequence[_Job], *, cells: int) -> list[_Result]:
    """``[work(job) for job in jobs]``, on a few threads when there is enough data to gain.

    NumPy's sort and searchsorted and pandas' hashing release the GIL, so columns are read
    in parallel; results keep the order of ``jobs``.
    """
    workers = min(len(jobs), os.cpu_count() or 1, MAX_THREADS)
    if workers < 2 or cells < PARALLEL_CELLS:
        return [work(job) for job in jobs]
    with ThreadPoolExecutor(workers, thread_name_prefix="keel-columns") as pool:
        return list(pool.map(work, jobs))


def column_names(frame: pd.DataFrame) -> list[str]:
    """The frame's column names as strings; raise if two are the same."""
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        repeated = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(f"The table has more than one column named {listing(repeated)}; rename them.")
    return names


def column_kind(series: pd.Series) -> str:
    """``numeric``, ``boolean``, ``datetime`` or ``categorical`` (everything else)."""
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_bool_dtype(dtype):
        return "boolean"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "numeric"
    if types.is_object_dtype(dtype):
        inferred = types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
            return "numeric"
        if inferred in ("datetime", "datetime64", "date"):
            return "datetime"
    return "categorical"


def read_numbers(series: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The column as float64 (NaN for nulls and unreadable values) and a mask of the unreadable.

    Numbers and booleans (as 0 and 1) are taken as they are; anything else goes through
    ``pd.to_numeric(errors="coerce")``, and a non-null value it cannot read is "unreadable".
    """
    import numpy as np
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if not isinstance(dtype, pd.CategoricalDtype) and (
        types.is_bool_dtype(dtype) or (types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype))
    ):
        values = np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
        return values, np.zeros(len(values), dtype=np.bool_)
    nulls = np.asarray(series.isna().to_numpy(), dtype=np.bool_)
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype):
        return np.full(len(series), np.nan), ~nulls
    source = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
    try:
        coerced = pd.to_numeric(source, errors="coerce")
        values = np.asarray(pd.Series(coerced).to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    except (TypeError, ValueError):
        return np.full(len(series), np.nan), ~nulls
    return values, np.isnan(values) & ~nulls


def value_counts(series: pd.Series) -> pd.Series:
    """Non-null value counts, most frequent first (categories that never occur left out)."""
    import pandas as pd

    counts = series.value_counts(dropna=True, sort=True)
    if isinstance(series.dtype, pd.CategoricalDtype):
        counts = counts[counts.to_numpy() > 0]
    return counts


def optional_float(value: Any) -> float | None:
    """A JSON number as a float, or None for a missing or non-finite one."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def listing(names: list[str], limit: int = 10) -> str:
    """Column names for a message: the first ``limit`` quoted, then how many more."""
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" … ({len(names) - limit} more)" if len(names) > limit else "") if names else "(none)"
