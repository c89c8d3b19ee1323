"""Batch scoring (``keel predict``) and exporting the prediction log (``keel predictions export``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from keel.core.errors import InvalidInput, NotFound
from keel.core.workspace import Workspace
from keel.data.tables import read_table, table_suffix, write_table

#: Rows scored per chunk (bounded memory for the model's intermediate arrays).
CHUNK = 100_000


def predict_file(workspace: Workspace, ref: str, source: Path, dest: Path) -> dict[str, Any]:
    """Score every row of ``source`` with ``ref``; write the rows with ``prediction`` (and
    ``proba.CLASS`` columns for classifiers) to ``dest``."""
    import pandas as pd

    from keel.models.registry import get_model_version, load_package
    from keel.tracking.session import session_for_workspace

    table_suffix(dest, "Output")
    session = session_for_workspace(workspace)
    version = get_model_version(ref, session=session)
    model = load_package(session, version)
    frame = read_table(source)
    if frame.empty:
        raise InvalidInput(f"{source} has no rows to score.")
    parts = []
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start : start + CHUNK]
        prepared = model.prepare(chunk)
        result = model.predict_rows(prepared)
        out = chunk.copy()
        out["prediction"] = result.values
        if result.probabilities is not None:
            proba = pd.DataFrame(result.probabilities, index=chunk.index)
            for column in proba.columns:
                out[f"proba.{column}"] = proba[column]
        parts.append(out)
    write_table(pd.concat(parts), dest)
    return {"model": version.name, "version": version.version, "rows": len(frame), "output": str(dest)}


def export_predictions(workspace: Workspace, name: str, since: datetime | None, dest: Path) -> dict[str, Any]:
    """The prediction log of model ``name`` (with a ``label`` column from feedback) → ``dest``."""
    from keel.core.models import check_model_name
    from keel.serving.prediction_log import FEEDBACK, logged_models, read_log

    check_model_name(name)
    table_suffix(dest, "Output")
    root = workspace.predictions_dir
    if name not in logged_models(root):
        known = ", ".join(logged_models(root)) or "none yet"
        raise NotFound(f"No prediction log for model {name!r} in {root}; logged models: {known}.")
    frame = read_log(root, name, since=since)
    labels = read_log(root, name, FEEDBACK)
    if not frame.empty:
        if not labels.empty:
            last = labels.drop_duplicates("request_id", keep="last").set_index("request_id")["label"]
            frame["label"] = frame["request_id"].map(last)
        else:
            frame["label"] = None
    write_table(frame, dest)
    return {
        "model": name,
        "rows": len(frame),
        "labelled": int(frame["label"].notna().sum()) if len(frame) else 0,
        "output": str(dest),
    }
