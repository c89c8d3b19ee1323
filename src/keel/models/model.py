"""A loaded model: the flavor's object behind a ``predict`` that enforces the signature."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from keel.core.models import ModelVersion
from keel.models.flavors import Flavor
from keel.models.signature import Signature, as_frame, conform, plain

if TYPE_CHECKING:
    from keel.models.fast import FastPath

#: scikit-learn classifiers whose ``predict`` is the most probable class of ``predict_proba``.
ARGMAX_CLASSIFIERS = frozenset(
    {
        "LogisticRegression",
        "DecisionTreeClassifier",
        "ExtraTreeClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "GradientBoostingClassifier",
        "HistGradientBoostingClassifier",
        "GaussianNB",
        "MultinomialNB",
        "BernoulliNB",
        "ComplementNB",
        "CategoricalNB",
        "MLPClassifier",
        "LinearDiscriminantAnalysis",
        "QuadraticDiscriminantAnalysis",
    }
)


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

    def predict_rows(self, frame: Any, probabilities: bool = True, raw: Any = None) -> Prediction:
        """Predictions as JSON-ready values for an already conformed frame (the server's path).

        ``raw`` predicts instead of :attr:`raw` (the fast path's copy without feature names).
        A classifier whose label is by definition the most probable class is run once, for
        its probabilities.
        """
        import numpy as np

        raw = self.raw if raw is None else raw
        want_proba = probabilities and self.is_classifier
        classes = getattr(self.raw, "classes_", None)
        if want_proba:
            proba = np.asarray(raw.predict_proba(frame))
            if self.argmax_labels and classes is not None:
                values = np.asarray(classes)[proba.argmax(axis=1)]
            else:
                values = np.asarray(self._predict(frame, raw))
        else:
            values = np.asarray(self._predict(frame, raw))
        result = Prediction([plain(v) for v in values.tolist()] if values.ndim == 1 else values.tolist())
        if want_proba:
            names = [str(plain(c)) for c in (classes if classes is not None else range(proba.shape[1]))]
            result.probabilities = [
                {c: float(p) for c, p in zip(names, row, strict=True)} for row in proba.tolist()
            ]
        return result

    @cached_property
    def fast(self) -> FastPath | None:
        """The small-request fast path, when it is proven equivalent for this model (see keel.models.fast)."""
        from keel.models.fast import FastPath

        return FastPath.build(self)

    @cached_property
    def argmax_labels(self) -> bool:
        """Whether ``predict`` is, by scikit-learn's definition, the most probable class.

        True for a known set of scikit-learn classifiers (alone or ending a Pipeline) whose
        ``predict`` is ``classes_[argmax(predict_proba)]``; not for SVC (Platt scaling can
        disagree with its decision function) or any user subclass.
        """
        if self.flavor.name != "sklearn" or not self.is_classifier:
            return False
        final = self.raw
        steps = getattr(final, "steps", None)
        if isinstance(steps, list) and steps:
            final = steps[-1][1]
        kind = type(final)
        return kind.__module__.startswith("sklearn.") and kind.__name__ in ARGMAX_CLASSIFIERS

    def _predict(self, frame: Any, raw: Any = None) -> Any:
        raw = self.raw if raw is None else raw
        if self.flavor.name == "pytorch":
            import torch

            data = frame if not hasattr(frame, "to_numpy") else frame.to_numpy(dtype="float32")
            with torch.no_grad():
                output = raw(torch.as_tensor(data, dtype=torch.float32))
            return output.numpy()
        return raw.predict(frame)
