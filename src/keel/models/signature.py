"""Model signatures: the input columns (name, type, nullability) and the output type.

A signature is inferred from an input example (a pandas DataFrame, a mapping of column to
values, a list of records, or a 2-D NumPy array) and stored in ``keel-model.yaml``. Before a
model predicts, :func:`conform` checks a frame against it and converts what can be converted
exactly (an integer column given as floats with no fraction, numbers sent as JSON integers to
a float column); everything else is reported per field, all at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

#: The column types a signature knows, and the NumPy dtype each becomes.
TYPES = ("integer", "float", "boolean", "string", "datetime")
#: How many per-field errors one failure reports at most.
MAX_ERRORS = 50


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass(frozen=True)
class Signature:
    inputs: tuple[Column, ...]
    #: "label" (classifier: one class per row, with probabilities), "number" (regressor),
    #: or "array" (anything else the model's predict returns per row).
    output: str = "array"
    #: class labels of a classifier, in the order of its probabilities
    classes: tuple[Any, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"inputs": [c.to_dict() for c in self.inputs], "output": self.output}
        if self.classes:
            body["classes"] = [plain(c) for c in self.classes]
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Signature:
        try:
            inputs = tuple(
                Column(str(c["name"]), str(c["type"]), bool(c.get("nullable", False))) for c in body["inputs"]
            )
        except (KeyError, TypeError) as exc:
            raise InvalidInput(
                f"The signature is incomplete ({exc}); give inputs: [{{name, type}}…]."
            ) from None
        for column in inputs:
            if column.type not in TYPES:
                raise InvalidInput(
                    f"Signature column {column.name!r} has type {column.type!r}; use one of {', '.join(TYPES)}."
                )
        return cls(inputs, str(body.get("output", "array")), tuple(body.get("classes") or ()))


def plain(value: Any) -> Any:
    """NumPy scalars as Python values (for YAML and JSON)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def as_frame(data: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a mapping of columns, a list of records or a 2-D array."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return (
            data.to_frame().T if columns is None else pd.DataFrame([data.to_numpy()], columns=list(columns))
        )
    if isinstance(data, Mapping):
        values = {
            k: (v if isinstance(v, list | tuple | np.ndarray | pd.Series) else [v]) for k, v in data.items()
        }
        try:
            return pd.DataFrame(values)
        except ValueError as exc:
            raise InvalidInput(f"Columns of different lengths: {exc}.") from None
    if isinstance(data, np.ndarray):
        if data.ndim == 1:
            data = (
                data.reshape(1, -1)
                if columns is not None and len(columns) == data.shape[0]
                else data.reshape(-1, 1)
            )
        if data.ndim != 2:
            raise InvalidInput(
                f"Expected a table of rows and columns, got an array of {data.ndim} dimensions."
            )
        names = list(columns) if columns is not None else [f"x{i}" for i in range(data.shape[1])]
        if len(names) != data.shape[1]:
            raise InvalidInput(f"Expected {len(names)} columns, got {data.shape[1]}.")
        return pd.DataFrame(data, columns=names)
    if isinstance(data, list | tuple):
        if all(isinstance(row, Mapping) for row in data):
            return pd.DataFrame(list(data))
        return as_frame(np.asarray(data), columns)
    raise InvalidInput(
        f"Cannot read {type(data).__name__} as a table; give a pandas DataFrame, a dict of columns, "
        "a list of records or a 2-D array."
    )


def column_type(series: pd.Series) -> str:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    values = series.dropna()
    if len(values) and all(isinstance(v, bool) for v in values):
        return "boolean"
    if len(values) and all(isinstance(v, datetime.date) for v in values):
        return "datetime"
    if len(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "integer"
    if len(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "float"
    return "string"


def infer_signature(example: Any, output: Any = None, classes: Sequence[Any] = ()) -> Signature:
    """The signature of an input example (and of the model's output for it, if given)."""
    frame = as_frame(example)
    if frame.shape[1] == 0:
        raise InvalidInput("The input example has no columns; give at least one row with the model's inputs.")
    columns = tuple(
        Column(str(name), column_type(frame[name]), bool(frame[name].isna().any())) for name in frame.columns
    )
    kind = "label" if len(classes) else "array"
    if not classes and output is not None:
        import numpy as np

        values = np.asarray(output)
        if values.ndim == 1 and values.dtype.kind == "f":
            kind = "number"
    return Signature(columns, kind, tuple(classes))


def conform(frame: pd.DataFrame, signature: Signature) -> pd.DataFrame:
    """``frame`` with the signature's columns, in its order and types; raise listing every problem.

    Raises :class:`InvalidInput` whose ``details["errors"]`` lists ``{"field", "error"}`` (and
    ``"rows"`` for value problems).
    """
    import pandas as pd

    errors: list[dict[str, Any]] = []
    names = set(signature.names)
    given = [str(c) for c in frame.columns]
    for name in signature.names:
        if name not in given:
            errors.append({"field": name, "error": "missing column"})
    for name in given:
        if name not in names:
            errors.append({"field": name, "error": "unexpected column (the model does not take it)"})
    frame = frame.rename(columns=str)
    out: dict[str, Any] = {}
    for column in signature.inputs:
        if column.name not in given:
            continue  # reported above; the other columns are still checked, all at once
        series = frame[column.name]
        missing = series.isna().to_numpy()
        if missing.any() and not column.nullable:
            errors.append(
                {
                    "field": column.name,
                    "error": "null or NaN where the model needs a value",
                    "rows": _rows(missing),
                }
            )
        try:
            out[column.name] = _convert(series, column, missing)
        except _BadValues as bad:
            errors.append({"field": column.name, "error": f"expected {column.type}", "rows": _rows(bad.mask)})
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise _invalid(errors, signature)
    return pd.DataFrame(out, index=frame.index)


class _BadValues(Exception):
    def __init__(self, mask: Any) -> None:
        super().__init__("bad values")
        self.mask = mask


def _rows(mask: Any) -> list[int]:
    import numpy as np

    return [int(i) for i in np.flatnonzero(mask)[:10]]


def _convert(series: pd.Series, column: Column, missing: Any) -> Any:
    import numpy as np
    import pandas as pd

    kind = column.type
    dtype = series.dtype
    if kind == "string":
        if dtype.kind in "biuf":
            raise _BadValues(~missing)
        bad = np.array(
            [not (m or isinstance(v, str)) for v, m in zip(series.to_numpy(), missing, strict=True)]
        )
        if bad.any():
            raise _BadValues(bad)
        return series.astype(object)
    if kind == "datetime":
        converted = pd.to_datetime(series, errors="coerce", utc=False)
        bad = converted.isna().to_numpy() & ~missing
        if bad.any():
            raise _BadValues(bad)
        return converted
    if dtype.kind == "O":
        values = series.to_numpy()
        if kind == "boolean":
            bad = np.array(
                [not (m or isinstance(v, bool | np.bool_)) for v, m in zip(values, missing, strict=True)]
            )
        else:
            bad = np.array(
                [
                    not (
                        m
                        or (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool))
                    )
                    for v, m in zip(values, missing, strict=True)
                ]
            )
        if bad.any():
            raise _BadValues(bad)
        series = pd.Series(
            np.array([np.nan if m else v for v, m in zip(values, missing, strict=True)], dtype=float)
            if kind != "boolean"
            else values,
            index=series.index,
        )
        dtype = series.dtype
    if kind == "boolean":
        if dtype.kind == "b":
            return series
        if dtype.kind == "O":
            return series.astype(object) if missing.any() else series.astype(bool)
        raise _BadValues(~missing)
    if dtype.kind == "b":
        raise _BadValues(~missing)
    if kind == "integer":
        if dtype.kind in "iu":
            return series.astype(np.int64)
        values = series.to_numpy(dtype=float)
        whole = np.isfinite(values) & (np.floor(values) == values)
        bad = ~whole & ~missing
        if bad.any():
            raise _BadValues(bad)
        return series if missing.any() else series.astype(np.int64)
    # float
    if dtype.kind in "iuf":
        values = series.to_numpy(dtype=float)
        if np.isinf(values).any():
            raise _BadValues(np.isinf(values))
        return series.astype(np.float64)
    raise _BadValues(~missing)


def _invalid(errors: list[dict[str, Any]], signature: Signature) -> InvalidInput:
    first = errors[0]
    where = f" (rows {first['rows']})" if first.get("rows") else ""
    more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
    expected = ", ".join(f"{c.name}: {c.type}{'?' if c.nullable else ''}" for c in signature.inputs)
    return InvalidInput(
        f"Input does not match the model's signature: {first['field']}: {first['error']}{where}{more}. "
        f"Expected columns {expected}.",
        details={"errors": errors},
    )
