"""The objects the metadata store refers to — run artifacts, the git diffs and package lists
in runs' context, registered model packages — read as plain SQL on a DB-API cursor, so that
``keel push``, ``keel pull`` and ``keel gc`` on a current SQLite store need no SQLAlchemy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from keel.store.write_batch import sql_text

if TYPE_CHECKING:
    from keel.store.database import Database


def model_packages(db: Database) -> list[tuple[str, str]]:
    """(package tree id, "model NAME/VERSION") of every registered model version."""
    with db.raw_read() as (cursor, style):
        cursor.execute(sql_text('SELECT "package_oid", "name", "version" FROM model_versions', style))
        return [(oid, f"model {name}/{version}") for oid, name, version in cursor.fetchall()]


def run_objects(db: Database) -> Iterator[tuple[str, str]]:
    """(object id, description) of every object a run refers to: artifacts, diffs, package lists."""
    with db.raw_read() as (cursor, style):
        cursor.execute(sql_text('SELECT "run_id", "name", "oid" FROM artifacts', style))
        artifact_rows = cursor.fetchall()
        cursor.execute(sql_text('SELECT "id", "context" FROM runs', style))
        run_rows = cursor.fetchall()
    for run_id, name, oid in artifact_rows:
        yield oid, f"run {run_id[:8]} artifact {name}"
    for run_id, text in run_rows:
        try:
            context = json.loads(text)
        except ValueError:
            continue
        git_info = context.get("git") or {}
        if git_info.get("diff"):
            yield git_info["diff"], f"run {run_id[:8]} git diff"
        packages = context.get("packages") or {}
        if packages.get("oid"):
            yield packages["oid"], f"run {run_id[:8]} package list"
