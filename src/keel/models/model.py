"""A loaded model: the flavor's object behind a ``predict`` that enforces the signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keel.core.models import ModelVersion
from keel.models.flavors import Flavor
from keel.models.signature import Signature, as_frame, conform, plain


@dataclass
class Prediction:
    """Predictions for a batch of rows, and class probabilities for classifiers."""

    values: list[Any]
    probabilities: list[dict[str, float]] | None = None


class KeelModel:
    """What ``keel.load_model`` returns.

    ``predict(data)`` takes a DataFrame, a dict of columns, a list of records or a 2-D array,
    checks it against the signature (missing or extra columns, types, nulls; every problem
    reported at once as :class:`keel.InvalidInput` with ``details["errors"]``), then predicts.
    ``raw`` is the underlying scikit-learn / PyTorch / Python object.
    """

    def __init__(
        self, raw: Any, flavor: Flavor, manifest: dict[str, Any], version: ModelVersion | None = None
    ) -> None:
        self.raw = raw
        self.flavor = flavor
        self.manifest = manifest
        self.version = version
        body = manifest.get("signature")
        self.signature: Signature | None = Signature.from_dict(body) if isinstance(body, dict) else None
        #: the input example's records as stored in the package (None when none was given)
        self.input_example: list[dict[str, Any]] | None = None

    def __repr__(self) -> str:
        label = self.version.ref if self.version is not None else self.manifest.get("name", "?")
        return f"<KeelModel {label} flavor={self.flavor.name}>"

    @property
    def is_classifier(self) -> bool:
        return callable(getattr(self.raw, "predict_proba", None)) and self.flavor.name != "pytorch"

    def prepare(self, data: Any) -> Any:
        """``data`` as a frame in the signature's columns and types (raises on a mismatch)."""
        columns = self.signature.names if self.signature is not None else None
        frame = as_frame(data, columns)
        return conform(frame, self.signature) if self.signature is not None else frame

    def predict(self, data: Any) -> Any:
        """The model's predictions for ``data`` (a NumPy array)."""
        return self._predict(self.prepare(data))

    def predict_proba(self, data: Any) -> Any:
        if not self.is_classifier:
            raise AttributeError(f"{self!r} is not a classifier: it has no predict_proba.")
        return self.raw.predict_proba(self.prepare(data))

    def predict_rows(self, frame: Any, probabilities: bool = True) -> Prediction:
        """Predictions as JSON-ready values for an already conformed frame (the server's path)."""
        import numpy as np

        values = np.asarray(self._predict(frame))
        result = Prediction([plain(v) for v in values.tolist()] if values.ndim == 1 else values.tolist())
        if probabilities and self.is_classifier:
            proba = np.asarray(self.raw.predict_proba(frame))
            classes = [str(plain(c)) for c in getattr(self.raw, "classes_", range(proba.shape[1]))]
            result.probabilities = [
                {c: float(p) for c, p in zip(classes, row, strict=True)} for row in proba.tolist()
            ]
        return result

    def _predict(self, frame: Any) -> Any:
        if self.flavor.name == "pytorch":
            import torch

            with torch.no_grad():
                output = self.raw(torch.as_tensor(frame.to_numpy(dtype="float32")))
            return output.numpy()
        return self.raw.predict(frame)
