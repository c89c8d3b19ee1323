"""Flavors: how a kind of model is written into a package and read back.

- ``sklearn``: scikit-learn estimators and Pipelines, written with skops (no pickle). The
  types skops needs to trust are recorded at save time and are the only ones trusted at load.
- ``pytorch``: ``torch.nn.Module``s as TorchScript (``torch.jit.script``, else traced on the
  input example), loadable without the model's Python class. Needs ``pip install keel[torch]``.
- ``python``: any other object with a ``predict`` method, written with pickle. Pickle can run
  code when loaded: Keel loads a package only after checking its id, so only what was
  registered loads, but register only models you trust.
"""

from __future__ import annotations

import importlib.metadata
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput, MissingDependency


@dataclass(frozen=True)
class Flavor:
    name: str
    payload: str  # the payload's file name in the package
    #: the distributions the flavor needs at load time (pinned to the installed versions)
    needs: tuple[str, ...]
    module: str  # imported to check the flavor's library is there
    save: Callable[[Any, Path, Any], dict[str, Any]]
    load: Callable[[Path, dict[str, Any]], Any]


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def requirements_for(flavor: Flavor, extra: list[str] | None) -> list[str]:
    pinned = []
    for dist in (*flavor.needs, "numpy", "pandas"):
        version = _version(dist)
        pinned.append(f"{dist}=={version}" if version else dist)
    given = [str(r).strip() for r in extra or [] if str(r).strip()]
    named = {r.split("=")[0].split("<")[0].split(">")[0].strip().lower() for r in given}
    return given + [r for r in pinned if r.split("==")[0].lower() not in named]


def require(flavor: Flavor, requirements: list[str] | None = None) -> None:
    """Raise :class:`MissingDependency` naming the package to install when the flavor's library is missing."""
    try:
        __import__(flavor.module)
    except ImportError:
        wanted = [r for r in requirements or [] if r.split("==")[0] in flavor.needs] or list(flavor.needs)
        hint = "pip install 'keel[torch]'" if flavor.name == "pytorch" else f"pip install {' '.join(wanted)}"
        raise MissingDependency(
            f"This model's flavor '{flavor.name}' needs {', '.join(flavor.needs)}, which is not installed; "
            f"run `{hint}`."
        ) from None


# -- scikit-learn -----------------------------------------------------------------------------


def _save_sklearn(model: Any, folder: Path, example: Any) -> dict[str, Any]:
    import skops.io as sio

    path = folder / "model.skops"
    sio.dump(model, path)
    return {"trusted": sorted(sio.get_untrusted_types(file=path))}


def _load_sklearn(folder: Path, options: dict[str, Any]) -> Any:
    import skops.io as sio

    path = folder / "model.skops"
    trusted = [str(t) for t in options.get("trusted") or []]
    unknown = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted))
    if unknown:
        raise InvalidInput(
            f"The package's skops file uses types it did not declare when it was saved ({', '.join(unknown[:5])}); "
            "refusing to load it."
        )
    return sio.load(path, trusted=trusted)


# -- PyTorch --------------------------------------------------------------------------------------


def _save_torch(model: Any, folder: Path, example: Any) -> dict[str, Any]:
    import torch

    model.eval()
    try:
        scripted = torch.jit.script(model)
    except Exception:  # noqa: BLE001 - not scriptable: trace it on the example instead
        if example is None:
            raise InvalidInput(
                "This PyTorch model cannot be scripted; pass input_example= so Keel can trace it."
            ) from None
        tensor = torch.as_tensor(example.to_numpy(dtype="float32"))
        scripted = torch.jit.trace(model, tensor)
    scripted.save(str(folder / "model.pt"))
    return {}


def _load_torch(folder: Path, options: dict[str, Any]) -> Any:
    import torch

    return torch.jit.load(str(folder / "model.pt"), map_location="cpu")


# -- generic Python ---------------------------------------------------------------------------------


def _save_python(model: Any, folder: Path, example: Any) -> dict[str, Any]:
    try:
        payload = pickle.dumps(model, protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"Cannot save {type(model).__name__} as a Python model: {exc}. Define its class in an "
            "importable module (not in __main__ or a closure)."
        ) from None
    (folder / "model.pkl").write_bytes(payload)
    return {"class": f"{type(model).__module__}.{type(model).__qualname__}"}


def _load_python(folder: Path, options: dict[str, Any]) -> Any:
    try:
        return pickle.loads((folder / "model.pkl").read_bytes())
    except (ModuleNotFoundError, AttributeError) as exc:
        raise MissingDependency(
            f"The model's class {options.get('class', '?')} cannot be imported ({exc}); install the "
            "package that defines it."
        ) from None


FLAVORS: dict[str, Flavor] = {
    "sklearn": Flavor(
        "sklearn", "model.skops", ("scikit-learn", "skops"), "sklearn", _save_sklearn, _load_sklearn
    ),
    "pytorch": Flavor("pytorch", "model.pt", ("torch",), "torch", _save_torch, _load_torch),
    "python": Flavor("python", "model.pkl", (), "pickle", _save_python, _load_python),
}


def flavor_named(name: str) -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise InvalidInput(f"Unknown model flavor {name!r}; Keel knows {', '.join(FLAVORS)}.") from None


def detect(model: Any) -> Flavor:
    """The flavor for ``model``: scikit-learn, PyTorch, or generic Python (anything with predict)."""
    module = type(model).__module__.split(".")[0]
    if module == "sklearn" or _is_sklearn(model):
        return FLAVORS["sklearn"]
    if module == "torch" or _is_torch(model):
        return FLAVORS["pytorch"]
    if callable(getattr(model, "predict", None)):
        return FLAVORS["python"]
    raise InvalidInput(
        f"Cannot log a {type(model).__name__} as a model: it is not a scikit-learn estimator or a "
        "PyTorch module and has no predict method."
    )


def _is_sklearn(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        return False
    return isinstance(model, BaseEstimator)


def _is_torch(model: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")  # only if the caller already uses torch
    return torch is not None and isinstance(model, torch.nn.Module)
