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


def test_raw_writes_from_many_threads_take_turns(tmp_path: Path) -> None:
    """The run cache and experiments are written from stage threads while the tracking
    writer writes too: on the engine's kept connection (here a SQLite URL with options,
    which does not take the plain sqlite3 path) one transaction runs at a time."""
    import threading

    from keel.store.experiments_repo import get_or_create_experiment

    db = Database(f"sqlite:///{tmp_path / 'k.db'}?timeout=30", Settings.resolve({}))
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(40):
                remember(db, f"{worker:02d}{i:062d}", "s", {"o": {"oid": "a" * 64}}, None)
                get_or_create_experiment(db, f"e{i % 5}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        assert all(lookup(db, f"{w:02d}{i:062d}") is not None for w in range(8) for i in range(40))
    finally:
        db.dispose()
