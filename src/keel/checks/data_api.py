"""Data checks from Python and the CLI: read the data, infer or load a schema, validate, record.

``keel.check_data(data, schema)`` takes a DataFrame or a path (CSV, TSV, Parquet, JSON lines,
or a folder of them) and a schema (a file path, a mapping, or a DataSchema); it returns the
:class:`~keel.checks.results.CheckReport`. Inside a Keel project, ``record=True`` records
it as a check run linked to the data's version.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.checks.data_check import validate_frame
from keel.checks.results import CheckReport
from keel.checks.schema import DataSchema, infer_schema, load_schema, render_schema, schema_from_dict
from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from keel.core.entities import DatasetVersion
    from keel.core.workspace import Workspace


def find_workspace(start: Path | None = None) -> Workspace | None:
    from keel.core.workspace import find_root, load_workspace

    root = find_root(start or Path.cwd())
    return None if root is None else load_workspace(root)


def read_data(path: Path) -> pd.DataFrame:
    from keel.data.tables import read_table

    if not path.exists():
        raise InvalidInput(
            f"Data {path} does not exist; give a CSV, TSV, Parquet or JSON-lines file, or a folder."
        )
    frame: pd.DataFrame = read_table(path, role="Data")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def read_data_at(path: Path, rev: str) -> pd.DataFrame:
    """The tracked table file ``path`` as keel.lock recorded it at git revision ``rev``."""
    from keel.data.api import open_tracked
    from keel.data.tables import read_table_from

    with open_tracked(path, rev) as handle:
        frame: pd.DataFrame = read_table_from(handle, path, role="Data")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def data_version(workspace: Workspace, path: Path) -> DatasetVersion | None:
    """The version of ``path`` (its content id), when it is inside the project."""
    from keel.core.entities import DatasetVersion
    from keel.data.add import snapshot_path
    from keel.data.context import open_data
    from keel.data.paths import project_path

    try:
        rel = project_path(workspace.root, path)
    except InvalidInput:
        return None
    ctx = open_data(workspace=workspace)
    try:
        found = snapshot_path(ctx, rel, store=False)
    finally:
        ctx.close()
    return DatasetVersion(found.path, found.oid, found.kind, found.size, found.files)


def subject_label(path: Path, workspace: Workspace | None) -> str:
    if workspace is not None:
        try:
            return Path(os.path.normpath(path.absolute())).relative_to(workspace.root).as_posix()
        except ValueError:
            pass
    return str(path)


def as_schema(schema: str | Path | dict[str, Any] | DataSchema) -> DataSchema:
    if isinstance(schema, DataSchema):
        return schema
    if isinstance(schema, dict):
        return schema_from_dict(schema)
    if isinstance(schema, str | Path):
        return load_schema(Path(schema))
    raise InvalidInput(f"A schema is a file path, a mapping or a DataSchema, not {type(schema).__name__}.")


def infer_file(data: Path, workspace: Workspace | None) -> tuple[DataSchema, str, int]:
    """Infer the schema of ``data``; return it, its YAML text, and the rows it was inferred from."""
    frame = read_data(data)
    if frame.shape[1] == 0:
        raise InvalidInput(f"{data} has no columns to infer a schema from.")
    label = subject_label(data, workspace)
    schema = infer_schema(frame, data=label)
    return schema, render_schema(schema, label, len(frame)), len(frame)


def check_data(
    data: Any,
    schema: str | Path | dict[str, Any] | DataSchema,
    *,
    record: bool = False,
    parent_id: str | None = None,
    experiment: str | None = None,
    workspace: Workspace | None = None,
) -> CheckReport:
    """Validate ``data`` (a DataFrame or a path) against ``schema``; optionally record it
    (in ``workspace``, by default the project around the current folder)."""
    import pandas as pd

    from keel.checks.record import SpecFile, record_report

    rules = as_schema(schema)
    if workspace is None and (record or not isinstance(data, pd.DataFrame)):
        workspace = find_workspace()
    dataset = None
    if isinstance(data, pd.DataFrame):
        frame, subject = data, "<DataFrame>"
    elif isinstance(data, str | Path):
        path = Path(data)
        frame = read_data(path)
        subject = subject_label(path, workspace)
        if record and workspace is not None:
            dataset = data_version(workspace, path)
    else:
        raise InvalidInput(f"check_data takes a pandas DataFrame or a path, not {type(data).__name__}.")
    report = validate_frame(frame, rules, subject=subject)
    if dataset is not None:
        report.subject_id = dataset.oid
    if record:
        if workspace is None:
            raise InvalidInput("record=True needs a Keel project (run inside one, or keel init).")
        spec_path = Path(rules.source)
        if spec_path.is_file():
            spec = SpecFile.of(spec_path, workspace.root)
        else:
            from keel.core.hashing import hash_bytes

            spec = SpecFile(rules.source, hash_bytes(repr(rules).encode()))
        record_report(workspace, report, spec, dataset=dataset, parent_id=parent_id, experiment=experiment)
    return report
