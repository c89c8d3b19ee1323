"""Shared fixtures: Keel projects in temporary folders, SQLite and PostgreSQL stores.

PostgreSQL tests use the server on 127.0.0.1:5432 (override with KEEL_TEST_PG_URL), each
test in a database of its own, dropped afterwards. Where no server answers, they are skipped
— unless KEEL_TEST_REQUIRE_POSTGRES=1 (set by .ci/run), which makes that a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN_URL = os.environ.get("KEEL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SRC = Path(__file__).resolve().parents[1] / "src"


def _pg_available() -> str | None:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return str(exc).splitlines()[0]
    return None


_pg_problem: list[str | None] = []


def require_postgres() -> None:
    if not _pg_problem:
        _pg_problem.append(_pg_available())
    problem = _pg_problem[0]
    if problem is not None:
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {problem}"
        if os.environ.get("KEEL_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database (dropped after the test)."""
    require_postgres()
    import sqlalchemy as sa

    name = f"keel_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend_url: str | None) -> Iterator[Path]:
    """A fresh Keel project, made the current folder, on the parametrized backend."""
    from keel.project.scaffold import init_project

    root = tmp_path / "proj"
    init_project(root)
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith("KEEL_") and not name.startswith("KEEL_TEST_"):
            monkeypatch.delenv(name)
    if backend_url:
        monkeypatch.setenv("KEEL_DB_URL", backend_url)
    yield root
    reset_tracking()


@pytest.fixture
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """The store URL for the test: PostgreSQL when the test uses the `backend` fixture with
    "postgresql", else None (the project's embedded SQLite)."""
    if "backend" in request.fixturenames and request.getfixturevalue("backend") == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return None


def reset_tracking() -> None:
    """Forget runs and sessions this test process holds (ending runs left active)."""
    from keel.tracking import fluent, session

    while fluent._stack:
        run = fluent._stack[-1]
        try:
            run.end("finished")
        except Exception:
            fluent._forget(run)
    fluent._attached.clear()
    session.close_all()


def _child_env(env: dict[str, str] | None) -> dict[str, str]:
    """This test process's environment minus its KEEL_* settings (tests pass those
    explicitly), with a wide terminal whatever the runner's own, plus ``env``."""
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("KEEL_") or k.startswith("KEEL_TEST_")
    }
    full_env["COLUMNS"] = "200"
    full_env.update(env or {})
    return full_env


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in a fresh process with :func:`_child_env`."""
    return subprocess.run(
        argv, cwd=cwd, env=_child_env(env), capture_output=True, text=True, timeout=timeout, check=False
    )


def start_keel(
    *args: str, cwd: Path, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[str]:
    """Start the real `keel` command in the background (to interrupt or kill it), with
    :func:`_child_env`; ``popen``: where its output goes, a new session…"""
    return subprocess.Popen(
        [sys.executable, "-m", "keel", *args], cwd=cwd, env=_child_env(env), text=True, **popen
    )


def run_keel(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real `keel` command in a subprocess."""
    return _run([sys.executable, "-m", "keel", *args], cwd, env, timeout)


def run_python(
    code: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a Python snippet in a fresh interpreter (the real process boundary)."""
    return _run([sys.executable, "-c", code], cwd, env, timeout)
