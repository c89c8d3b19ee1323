"""The objects the metadata store refers to, read with plain SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import keel
from keel.store import object_refs
from keel.tracking.session import get_session


def test_run_artifacts_context_objects_and_model_packages_are_listed(project: Path, backend: str) -> None:
    (project / "notes.txt").write_text("what this run found")
    with keel.start_run(name="r") as run:
        artifact = keel.log_artifact(project / "notes.txt")
    db = get_session().db
    found = dict(object_refs.run_objects(db))
    assert found[artifact] == f"run {run.id[:8]} artifact notes.txt"
    packages = keel.get_run(run.id).context["packages"]["oid"]  # stored as an object
    assert found[packages] == f"run {run.id[:8]} package list"
    assert object_refs.model_packages(db) == []
