"""Reference data for monitoring: a table, or the training data of a model, as a sketch.

A reference is a table: a file (CSV, Parquet, …) in the project, a tracked file as
``keel.lock`` recorded it at a git revision (``data/train.csv@v1``), or — for a model — the
training data its run read. Its sketch (:mod:`keel.checks.sketch`) is computed once per
dataset version and cached (:mod:`keel.checks.sketch_cache`), so monitoring never rereads
training data. For a model the sketch also holds the model's own predictions on that data
(``prediction``), the reference for prediction drift, and the settings key includes the
model's package id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from keel.checks.sketch import TableSketch
    from keel.core.models import ModelVersion
    from keel.core.workspace import Workspace
    from keel.models.model import KeelModel
    from keel.tracking.session import Session

PREDICTION = "prediction"


@dataclass
class Reference:
    label: str  # what to call it in reports: "data/processed/train.csv (3f2a9c…)"
    sketch: TableSketch
    dataset_oid: str
    #: the column of the reference holding true labels (model references), if known
    label_column: str | None = None
    #: performance of the model on this data, when it has labels
    performance: dict[str, float] | None = None


def split_version(text: str) -> tuple[str, str | None]:
    """``data/train.csv@v1`` → (``data/train.csv``, ``v1``); no ``@``: no revision."""
    path, sep, rev = text.rpartition("@")
    if sep and path and rev and "/" not in rev:
        return path, rev
    return text, None


def file_reference(
    workspace: Workspace, session: Session, text: str, kinds: dict[str, str] | None = None
) -> Reference:
    """A reference given as a path (``data/train.csv``) or a recorded version (``…@v1``)."""
    from keel.checks.data_api import subject_label
    from keel.checks.sketch_cache import content_id, sketch_reference

    raw, rev = split_version(text)
    path = Path(raw)
    if rev is None and not path.exists():
        raise InvalidInput(f"Reference {raw} does not exist; give a data file or folder, or PATH@REV.")
    oid = content_id(workspace, path, rev)
    if oid is None:
        raise InvalidInput(f"Reference {raw} is outside the project; copy it in, or give a file.")
    sketch = sketch_reference(path, rev, oid=oid, session=session, kinds=kinds)
    label = subject_label(path, workspace) + (f"@{rev}" if rev is not None else "")
    return Reference(f"{label} ({oid[:10]})", sketch, oid)


def model_reference(
    session: Session, version: ModelVersion, model: KeelModel, kinds: dict[str, str] | None = None
) -> Reference:
    """The training data of ``version``: the table its run read that holds the model's inputs,
    with the model's predictions on it (and its performance, when one other column holds the
    labels)."""
    from keel.checks.sketch import sketch_table
    from keel.checks.sketch_cache import cached_sketch, kinds_key, table_format
    from keel.tracking.queries import get_run

    if version.run_id is None:
        raise NotFound(
            f"{version.ref} was not logged from a run, so its training data is unknown; give --reference."
        )
    run = get_run(version.run_id, session=session)
    names = model.signature.names if model.signature is not None else []
    tables = [d for d in run.inputs if d.kind == "file" and _is_table(d.path)]
    if not tables:
        raise NotFound(
            f"The run of {version.ref} ({run.id[:12]}) read no table file (CSV, Parquet…); give --reference DATA."
        )
    last_error = ""
    for candidate in tables:
        settings = f"model:{version.package_oid}:{table_format(candidate.path)}:{kinds_key(kinds)}"

        def compute(candidate: Any = candidate) -> tuple[TableSketch, dict[str, Any]]:
            frame = _read_object(session, candidate.oid, candidate.path)
            missing = [n for n in names if n not in frame.columns]
            if missing:
                raise _NotTheTable(f"{candidate.path} lacks {', '.join(missing[:3])}")
            return _model_sketch(frame, names, model, lambda table: sketch_table(table, kinds=kinds))

        try:
            sketch, extra = cached_sketch(session, candidate.oid, settings, compute)
        except _NotTheTable as exc:
            last_error = str(exc)
            continue
        label = f"{candidate.path} ({candidate.oid[:10]}), the training data of {version.ref}"
        return Reference(label, sketch, candidate.oid, extra.get("label_column"), extra.get("performance"))
    raise NotFound(
        f"None of the tables the run of {version.ref} read holds its inputs ({last_error}); give --reference."
    )


class _NotTheTable(Exception):
    pass


def _model_sketch(
    frame: pd.DataFrame, names: list[str], model: KeelModel, sketch: Callable[[pd.DataFrame], TableSketch]
) -> tuple[TableSketch, dict[str, Any]]:
    import numpy as np

    from keel.monitor.performance import performance

    inputs = frame[names] if names else frame
    predicted = np.asarray(model.predict(inputs))
    table = inputs.copy()
    table[PREDICTION] = [str(v) for v in predicted.tolist()] if model.is_classifier else predicted
    others = [c for c in frame.columns if c not in set(names)]
    extra: dict[str, Any] = {}
    if len(others) == 1:
        extra["label_column"] = others[0]
        extra["performance"] = performance(frame[others[0]], table[PREDICTION], model.is_classifier)
    return sketch(table), extra


def _is_table(path: str) -> bool:
    from keel.data.tables import FORMATS

    return Path(path).suffix.lower() in FORMATS


def _read_object(session: Session, oid: str, path: str) -> pd.DataFrame:
    """The table a run read, by content id: from the object store, or from the workspace
    when the file there still has that content (a stage's inputs are not always stored)."""
    from keel.checks.data_api import data_version, read_data
    from keel.data.tables import read_table_from

    if not session.objects.exists(oid):
        local = session.workspace.root / path
        version = data_version(session.workspace, local) if local.is_file() else None
        if version is None or version.oid != oid:
            raise NotFound(
                f"The training data {path} ({oid[:12]}) is neither in the local store nor in the workspace "
                "(it changed since); run `keel pull`, or give --reference DATA."
            )
        return read_data(local)
    with session.objects.open(oid) as handle:
        frame: pd.DataFrame = read_table_from(handle, Path(path), role="Reference")
    frame.columns = [str(c) for c in frame.columns]
    return frame
