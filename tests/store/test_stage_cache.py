"""The run cache of pipeline stages, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.settings import Settings
from keel.store.database import Database
from keel.store.stage_cache_repo import lookup, remember


def test_the_first_execution_of_a_key_stays_the_reference(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'k.db'}"
    db = Database(url, Settings.resolve({}))
    try:
        assert lookup(db, "k" * 64) is None
        remember(db, "k" * 64, "train", {"model.pkl": {"oid": "a" * 64}}, "run1")
        remember(db, "k" * 64, "train", {"model.pkl": {"oid": "b" * 64}}, "run2")  # --force: same key
        assert lookup(db, "k" * 64) == {"outs": {"model.pkl": {"oid": "a" * 64}}, "run_id": "run1"}
        remember(db, "j" * 64, "train", {}, None)
        assert lookup(db, "j" * 64) == {"outs": {}, "run_id": None}
    finally:
        db.dispose()
