"""Model packages: a tree in the object store holding ``keel-model.yaml`` and the payload.

``keel-model.yaml``::

    format: 1
    name: iris                     # the registered model it was logged as
    flavor: sklearn                # sklearn | pytorch | python (see flavors.py)
    payload: model.skops
    signature: {inputs: [{name, type, nullable}…], output: label, classes: [...]}
    input_example: input_example.json   # records, when an example was given
    requirements: [scikit-learn==1.5.2, skops==0.10.0, numpy==…, pandas==…]
    python: 3.11.7
    run_id: 3f2a…                  # the run that logged it
    metrics: {accuracy: 0.97}      # the run's metrics when it was logged
    params: {max_depth: 4}
    flavor_options: {trusted: [...]}   # what the flavor needs to load it back

A package's id is its tree's id: loading checks the tree and every file against their ids
before anything is deserialized, so a package that changed on disk is refused, by object.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.core.errors import IntegrityError, InvalidInput
from keel.core.yaml_file import safe_dump, safe_load
from keel.models.flavors import Flavor, flavor_named, requirements_for
from keel.models.signature import Signature, as_frame, infer_signature
from keel.objects.object_store import ObjectStore
from keel.objects.trees import TreeEntry, Trees

PACKAGE_FORMAT = 1
MANIFEST = "keel-model.yaml"
EXAMPLE = "input_example.json"
#: Rows of the input example kept in the package.
EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class Package:
    oid: str
    size: int
    manifest: dict[str, Any]

    @property
    def flavor(self) -> str:
        return str(self.manifest.get("flavor"))

    @property
    def signature(self) -> Signature | None:
        body = self.manifest.get("signature")
        return Signature.from_dict(body) if isinstance(body, dict) else None


def _records(frame: Any) -> list[dict[str, Any]]:
    text = frame.head(EXAMPLE_ROWS).to_json(orient="records", date_format="iso")
    value: list[dict[str, Any]] = json.loads(text)
    return value


def build_package(
    objects: ObjectStore,
    model: Any,
    flavor: Flavor,
    *,
    name: str,
    input_example: Any = None,
    signature: Signature | dict[str, Any] | None = None,
    requirements: list[str] | None = None,
    run_id: str | None = None,
    metrics: dict[str, float] | None = None,
    params: dict[str, Any] | None = None,
) -> Package:
    """Write ``model`` as a package into ``objects``; return it (its id, size and manifest)."""
    example = as_frame(input_example) if input_example is not None else None
    if isinstance(signature, dict):
        signature = Signature.from_dict(signature)
    if signature is None and example is not None:
        output = None
        try:
            output = model.predict(example.head(EXAMPLE_ROWS)) if flavor.name != "pytorch" else None
        except Exception:  # noqa: BLE001 - the output type is optional; the inputs are what matter
            output = None
        classes = getattr(model, "classes_", None)
        signature = infer_signature(example, output, list(classes) if classes is not None else ())
    if requirements is not None and not (
        isinstance(requirements, list | tuple) and all(isinstance(r, str) for r in requirements)
    ):
        raise InvalidInput("requirements must be a list of pip requirement strings, e.g. ['xgboost==2.1.0'].")
    with tempfile.TemporaryDirectory(prefix="keel-model-") as tmp:
        folder = Path(tmp)
        options = flavor.save(model, folder, example)
        manifest: dict[str, Any] = {
            "format": PACKAGE_FORMAT,
            "name": name,
            "flavor": flavor.name,
            "payload": flavor.payload,
            "signature": signature.to_dict() if signature is not None else None,
            "input_example": EXAMPLE if example is not None else None,
            "requirements": requirements_for(flavor, list(requirements or [])),
            "python": platform.python_version(),
            "run_id": run_id,
            # plain floats (NumPy scalars are not YAML), without NaN (not portable YAML)
            "metrics": {k: float(v) for k, v in (metrics or {}).items() if not math.isnan(v)},
            "params": json.loads(json.dumps(params or {}, default=str)),
            "flavor_options": options,
        }
        if example is not None:
            (folder / EXAMPLE).write_text(json.dumps(_records(example), indent=1), encoding="utf-8")
        (folder / MANIFEST).write_text(safe_dump(manifest), encoding="utf-8")
        entries = []
        for path in sorted(folder.iterdir()):
            if path.is_file():
                oid, size = objects.put_file(path)
                entries.append(TreeEntry(path.name, "file", oid, size))
        package_oid = Trees(objects).put(entries)
        return Package(package_oid, sum(e.size for e in entries), manifest)


def read_manifest(objects: ObjectStore, oid: str) -> Package:
    """A package's manifest, verified against its id."""
    entries = _entries(objects, oid)
    entry = entries.get(MANIFEST)
    if entry is None:
        raise IntegrityError(f"Object {oid[:12]}… is not a Keel model package (it has no {MANIFEST}).")
    manifest = _manifest(objects.read_bytes(entry.oid), oid)
    return Package(oid, sum(e.size for e in entries.values()), manifest)


def _entries(objects: ObjectStore, oid: str) -> dict[str, TreeEntry]:
    return {e.name: e for e in Trees(objects).get(oid)}


def _manifest(data: bytes, oid: str) -> dict[str, Any]:
    try:
        manifest = safe_load(data.decode("utf-8"))
    except Exception:  # noqa: BLE001 - any YAML problem means a broken package
        manifest = None
    if not isinstance(manifest, dict):
        raise IntegrityError(f"Model package {oid[:12]}…: {MANIFEST} is not a mapping.")
    if int(manifest.get("format", 0) or 0) > PACKAGE_FORMAT:
        raise InvalidInput(
            f"Model package {oid[:12]}… has format {manifest.get('format')}, newer than this Keel "
            "reads; upgrade Keel."
        )
    return manifest


@contextmanager
def unpacked(objects: ObjectStore, oid: str) -> Iterator[tuple[Package, Path]]:
    """The package's files in a temporary folder, each verified against its id first."""
    entries = _entries(objects, oid)  # the tree itself is verified as it is read
    if MANIFEST not in entries:
        raise IntegrityError(f"Object {oid[:12]}… is not a Keel model package (it has no {MANIFEST}).")
    folder = Path(tempfile.mkdtemp(prefix="keel-load-"))
    try:
        for name, entry in entries.items():
            if entry.kind != "file" or "/" in name or name.startswith("."):
                raise IntegrityError(f"Model package {oid[:12]}… holds an unexpected entry {name!r}.")
            objects.copy_to(entry.oid, folder / name, verify=True)
        manifest = _manifest((folder / MANIFEST).read_bytes(), oid)
        flavor_named(str(manifest.get("flavor")))
        yield Package(oid, sum(e.size for e in entries.values()), manifest), folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def input_example(folder: Path, manifest: dict[str, Any]) -> list[dict[str, Any]] | None:
    name = manifest.get("input_example")
    if not name or not (folder / str(name)).is_file():
        return None
    value = json.loads((folder / str(name)).read_text(encoding="utf-8"))
    return value if isinstance(value, list) else None
