"""Schema creation and upgrades, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from keel.core.errors import SchemaTooNew, StoreUnavailable
from keel.core.settings import Settings
from keel.store.database import Database
from keel.store.migrate import HEAD, current_revision, ensure_schema
from keel.store.schema import metadata, postgresql_partial_indexes


def _url(backend: str, tmp_path: Path, pg_url: str | None) -> str:
    return pg_url if backend == "postgresql" and pg_url else f"sqlite:///{tmp_path / 'keel.db'}"


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    pg = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    return _url(backend, tmp_path, pg)


def test_first_open_creates_the_schema(store_url: str) -> None:
    db = Database(store_url, Settings.resolve({}))
    with db.read() as conn:
        assert current_revision(conn) == HEAD
        tables = set(sa.inspect(conn).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    db.dispose()


def test_migrations_match_the_table_definitions(store_url: str) -> None:
    """Running every migration gives exactly the tables a new store is created with."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from keel.store.migrate import run_migrations

    engine = sa.create_engine(store_url)
    if engine.dialect.name == "postgresql":
        postgresql_partial_indexes()  # as opening a PostgreSQL store does
    with engine.connect() as conn:
        run_migrations(conn)
        conn.commit()
        assert current_revision(conn) == HEAD
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    # The partial indexes are partial on this database too.
    where = {i.name: i.dialect_options[engine.dialect.name]["where"] for i in metadata.tables["runs"].indexes}
    assert where["ix_runs_start_time"] is None
    assert None not in (where["ix_runs_status"], where["ix_runs_parent_id"])
    engine.dispose()


def _migrate_to(url: str, revision: str) -> None:
    """Run the migrations on ``url`` up to ``revision`` (an older store)."""
    from alembic import command
    from alembic.config import Config

    from keel.store.migrate import MIGRATIONS_DIR

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
        assert current_revision(conn) == revision
    engine.dispose()


def test_an_older_store_is_upgraded_by_the_migrations(store_url: str) -> None:
    from keel.store.migrate import REVISIONS

    _migrate_to(store_url, REVISIONS[-2])
    db = Database(store_url, Settings.resolve({}))
    try:
        with db.read() as conn:
            assert current_revision(conn) == HEAD
            assert {"check_results", "profiles", "monitor_events"} <= set(sa.inspect(conn).get_table_names())
    finally:
        db.dispose()


def test_a_newer_schema_is_refused(store_url: str) -> None:
    db = Database(store_url, Settings.resolve({}))
    db.ensure_schema()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    db.dispose()
    fresh = Database(store_url, Settings.resolve({}))
    with pytest.raises(SchemaTooNew, match="newer than this Keel knows") as info, fresh.read():
        pass
    assert "upgrade Keel" in str(info.value)
    assert info.value.exit_code == 7
    fresh.dispose()


def test_auto_migrate_off_refuses_an_empty_store(store_url: str) -> None:
    db = Database(store_url, Settings.resolve({"KEEL_AUTO_MIGRATE": "false"}))
    with pytest.raises(StoreUnavailable, match="keel db upgrade"), db.read():
        pass
    assert ensure_schema(db, upgrade=True) == HEAD
    db.dispose()


_OPEN = """
import sys, time
from keel.core.settings import Settings
from keel.store.database import Database
db = Database(sys.argv[1] if len(sys.argv) > 1 else {url!r}, Settings.resolve({{}}))
time.sleep(max(0.0, {start} - time.time()))
with db.read() as conn:
    pass
print("ok")
"""


def test_concurrent_first_opens_do_not_race(store_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    start = time.time() + 2.0
    code = _OPEN.format(url=store_url, start=start)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for (out, err), proc in zip(results, procs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    db = Database(store_url, Settings.resolve({}))
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert current_revision(conn) == HEAD
    db.dispose()


def test_unreachable_and_wrong_password_urls(tmp_path: Path) -> None:
    settings = Settings.resolve({})
    db = Database("postgresql+psycopg://keel:secret@127.0.0.1:9/keel", settings)
    with pytest.raises(StoreUnavailable) as info, db.read():
        pass
    message = str(info.value)
    assert "secret" not in message and "***" in message
    assert "check the host and port" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda url: url.replace("//postgres@", "//no_such_role:pw@"), "check the user name"),
        (lambda url: url.rsplit("/", 1)[0] + "/no_such_database", "create the database"),
    ],
)
def test_real_server_refusals_are_one_clean_line(pg_url: str, mutate: object, fragment: str) -> None:
    # The local server trusts loopback connections, so a wrong password cannot be refused here;
    # an unknown role and an unknown database are refused for real, through the same path.
    assert callable(mutate)
    db = Database(mutate(pg_url), Settings.resolve({}))
    with pytest.raises(StoreUnavailable) as info, db.read():
        pass
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and ":pw@" not in message


def test_a_sqlite_store_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    """Every command on a SQLite store would pay ~30 ms for it."""
    code = (
        "import sys\n"
        "from keel.core.settings import Settings\n"
        "from keel.store.database import Database\n"
        f"db = Database('sqlite:///{tmp_path}/keel.db', Settings.resolve({{}}))\n"
        "db.ensure_schema()\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_plain_row_columns_match_the_table() -> None:
    from keel.store.rows import HEAD_LENGTH, RUN_COLUMNS
    from keel.store.schema import params, runs

    assert tuple(c.name for c in runs.columns) == RUN_COLUMNS
    assert params.c.value_head.type.length == HEAD_LENGTH


def test_a_current_sqlite_store_records_runs_without_sqlalchemy(tmp_path: Path) -> None:
    """Recording runs (keel run, keel track) opens a current SQLite store with sqlite3 alone."""
    url = f"sqlite:///{tmp_path}/keel.db"
    Database(url, Settings.resolve({})).ensure_schema()  # an existing store at the head revision
    code = (
        "import sys\n"
        "from keel.core.settings import Settings\n"
        "from keel.store.database import Database\n"
        "from keel.store.experiments_repo import get_or_create_experiment\n"
        "from keel.store.rows import run_row\n"
        "from keel.store.write_batch import WriteBatch, apply_batch\n"
        f"db = Database({url!r}, Settings.resolve({{}}))\n"
        "exp = get_or_create_experiment(db, 'e')\n"
        "assert get_or_create_experiment(db, 'e') == exp\n"
        "batch = WriteBatch()\n"
        "batch.runs.append(run_row('r' * 32, exp, name='n'))\n"
        "batch.metrics.append(('r' * 32, 'm', 0, 1.0, 2.5))\n"
        "with db.raw_write() as (cursor, style):\n"
        "    apply_batch(cursor, style, batch)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'alembic'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout
    db = Database(url, Settings.resolve({}))
    with db.read() as conn:
        row = conn.execute(sa.text("SELECT name, experiment_id FROM runs")).one()
        value = conn.execute(sa.text("SELECT value FROM latest_metrics")).scalar_one()
    assert tuple(row) == ("n", 1) and value == 2.5
    db.dispose()


def test_an_older_sqlite_store_is_upgraded_before_a_raw_write(tmp_path: Path) -> None:
    """The sqlite3 path serves a store at the head revision only; an older one is migrated."""
    from keel.store.experiments_repo import get_or_create_experiment
    from keel.store.migrate import REVISIONS

    url = f"sqlite:///{tmp_path}/keel.db"
    _migrate_to(url, REVISIONS[-2])
    db = Database(url, Settings.resolve({}))
    try:
        assert get_or_create_experiment(db, "e") == 1
        with db.read() as conn:
            assert current_revision(conn) == HEAD
    finally:
        db.dispose()
