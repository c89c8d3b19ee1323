"""The small-request fast path: numeric rows straight into a NumPy matrix, no pandas.

A scoring server's typical request is one row of numbers. Through pandas, building the frame,
checking it against the signature and letting scikit-learn re-check its feature names cost
several times what the model itself does. For a model whose inputs are all numbers, Keel
instead reads the parsed JSON values into one float64 matrix — accepting a value only when
:func:`keel.models.signature.conform` would accept it unchanged (a number of the right kind,
no NaN or infinity, null only in a nullable column) — and predicts on a copy of the model
without its fitted feature names, its columns in the order the model was fitted on.

The path is used only when it is proven equivalent: at load, the predictions (and
probabilities) on the package's input example must equal those of the DataFrame path, and
must come without warnings. Anything the fast path does not accept goes down the general path,
which reports every problem; so errors read the same either way.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from keel.models.model import KeelModel, Prediction

#: Up to this many rows a request is read value by value; larger ones go through pandas.
MAX_ROWS = 64


class FastPath:
    """Predictions for all-numeric requests of up to :data:`MAX_ROWS` rows, built by :meth:`build`."""

    def __init__(self, model: KeelModel, twin: Any, order: list[str], nullable: set[str], integer: set[str]):
        self.model = model
        self.twin = twin
        #: the matrix's columns, in the order the model was fitted on
        self.order = order
        self.nullable = nullable
        self.integer = integer
        self._expected = set(order)

    @classmethod
    def build(cls, model: KeelModel) -> FastPath | None:
        """The fast path for ``model``, or None when it is not proven equivalent."""
        signature = model.signature
        example = model.input_example
        if model.flavor.name != "sklearn" or signature is None or not example:
            return None
        if any(c.type not in ("float", "integer") for c in signature.inputs):
            return None
        names = signature.names
        fitted = getattr(model.raw, "feature_names_in_", None)
        order = [str(n) for n in fitted] if fitted is not None else names
        if sorted(order) != sorted(names):
            return None
        twin = _without_feature_names(model.raw)
        path = cls(
            model,
            twin,
            order,
            {c.name for c in signature.inputs if c.nullable},
            {c.name for c in signature.inputs if c.type == "integer"},
        )
        try:
            matrix = path.matrix(example)
            if matrix is None:
                return None
            with warnings.catch_warnings():  # the general path's warnings are its own business
                warnings.simplefilter("ignore")
                expected = model.predict_rows(model.prepare(example))
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                found = path.predict(matrix)
        except Exception:  # noqa: BLE001 - any difference means the general path answers
            return None
        if not _same(expected, found):
            return None
        return path

    def matrix(self, rows: Sequence[Any]) -> np.ndarray | None:
        """JSON records as a float64 matrix, or None when any value needs the general path."""
        if not 0 < len(rows) <= MAX_ROWS:
            return None
        order, expected = self.order, self._expected
        if not all(isinstance(row, dict) and row.keys() == expected for row in rows):
            return None
        return self._stack([[row[name] for name in order] for row in rows])

    def matrix_split(self, columns: Sequence[Any], data: Sequence[Any]) -> np.ndarray | None:
        """Column-split JSON (``columns`` + ``data`` rows) as a matrix, or None."""
        if not 0 < len(data) <= MAX_ROWS or len(columns) != len(self.order) or set(columns) != self._expected:
            return None
        position = {name: index for index, name in enumerate(columns)}
        take = [position[name] for name in self.order]
        if not all(isinstance(row, list) and len(row) == len(take) for row in data):
            return None
        return self._stack([[row[i] for i in take] for row in data])

    def _stack(self, rows: list[list[Any]]) -> np.ndarray | None:
        import numpy as np

        if not all(self._acceptable(values) for values in rows):
            return None
        return np.array(rows, dtype=np.float64)

    def _acceptable(self, values: list[Any]) -> bool:
        for name, value in zip(self.order, values, strict=True):
            kind = type(value)
            if kind is float:
                if not math.isfinite(value):
                    if math.isnan(value) and name in self.nullable:
                        continue
                    return False
                if name in self.integer and not value.is_integer():
                    return False
            elif kind is int:
                continue
            elif value is None:
                if name not in self.nullable:
                    return False
            else:
                return False
        return True

    def predict(self, matrix: np.ndarray) -> Prediction:
        if self.nullable:  # NaN may be there: let scikit-learn check what the model accepts
            return self.model.predict_rows(matrix, raw=self.twin)
        import sklearn

        with sklearn.config_context(assume_finite=True):  # every value was checked finite
            return self.model.predict_rows(matrix, raw=self.twin)

    def inputs(self, matrix: np.ndarray) -> dict[str, list[Any]]:
        """The matrix's columns as Python lists for the prediction log, in the signature's order."""
        columns = dict(zip(self.order, matrix.T.tolist(), strict=True))
        out = {}
        for name in self.model.signature.names if self.model.signature is not None else self.order:
            values = columns[name]
            if name in self.integer:
                values = [v if math.isnan(v) else int(v) for v in values]
            out[name] = values
        return out


def _without_feature_names(raw: Any) -> Any:
    """A deep copy of ``raw`` with every estimator's fitted ``feature_names_in_`` removed.

    Keel checks names and order itself before the matrix is built, so scikit-learn's own
    check (and its warning for a nameless matrix) is redundant on this path.
    """
    twin = copy.deepcopy(raw)
    seen: set[int] = set()

    def strip(obj: Any) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, list | tuple):
            for item in obj:
                strip(item)
            return
        if not hasattr(obj, "get_params") or not hasattr(obj, "__dict__"):
            return
        obj.__dict__.pop("feature_names_in_", None)
        for value in list(vars(obj).values()):
            strip(value)

    strip(twin)
    return twin


def _same(a: Prediction, b: Prediction) -> bool:
    if a.values != b.values:
        return False
    if (a.probabilities is None) != (b.probabilities is None):
        return False
    if a.probabilities is None or b.probabilities is None:
        return True
    for left, right in zip(a.probabilities, b.probabilities, strict=True):
        if left.keys() != right.keys():
            return False
        if any(not math.isclose(left[k], right[k], rel_tol=1e-9, abs_tol=1e-12) for k in left):
            return False
    return True
