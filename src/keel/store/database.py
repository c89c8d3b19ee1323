"""Connections to the metadata store: SQLite (embedded) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Write transactions start with
``BEGIN IMMEDIATE`` so a writer takes the lock up front and waits its turn (a deferred
transaction that later upgrades to a write lock fails at once instead of waiting). Driver
errors are translated here, at the seam, into :class:`StoreUnavailable` messages that name
the store (password hidden) and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.errors import ConfigError, KeelError, StoreUnavailable
from keel.core.settings import Settings
from keel.core.sqlite_wal import enable_wal

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

_WRITE = "keel_write"


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


class Database:
    """One metadata store. Create once per process and share; it is thread-safe."""

    def __init__(self, url: str, settings: Settings) -> None:
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        self.url = url
        self.settings = settings
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(
                f"Metadata store URL {redact(url)!r} is not a database URL; use "
                "sqlite:///path/keel.db or postgresql+psycopg://user:password@host:5432/db."
            ) from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"Metadata store URL {redact(url)!r} uses {self.dialect}; Keel supports "
                "sqlite:/// and postgresql+psycopg://."
            )
        self.sqlite_path: Path | None = None
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                raise ConfigError("An in-memory SQLite store would lose every run; give a file path.")
            self.sqlite_path = Path(parsed.database or "")
            kwargs["connect_args"] = {
                "timeout": settings.sqlite_busy_timeout,
                "check_same_thread": False,
            }
        else:
            from keel.store.schema import postgresql_partial_indexes

            postgresql_partial_indexes()
            kwargs["connect_args"] = {"connect_timeout": 10}
            kwargs["pool_size"] = 4
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"No database driver for {redact(url)!r} ({exc}); use postgresql+psycopg:// "
                "(installed with Keel) or sqlite:///."
            ) from None
        if self.dialect == "sqlite":
            busy_ms = int(settings.sqlite_busy_timeout * 1000)
            synchronous = settings.sqlite_synchronous.upper()

            @event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                # Let SQLAlchemy's "begin" event issue BEGIN, so writes can use IMMEDIATE.
                dbapi_conn.isolation_level = None
                cursor = dbapi_conn.cursor()
                cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
                # Durability first: a new file's switch to WAL then syncs as configured.
                cursor.execute(f"PRAGMA synchronous = {synchronous}")
                enable_wal(cursor, settings.sqlite_busy_timeout)
                cursor.execute("PRAGMA foreign_keys = ON")
                # Search reads many small rows at random: a bigger page cache and memory-mapped
                # reads (no read() per page) halve a 100,000-run search.
                cursor.execute("PRAGMA cache_size = -65536")
                cursor.execute("PRAGMA mmap_size = 268435456")
                # Checkpoints fsync; left to SQLite they land inside whichever commit crosses
                # the threshold (measured: 3x slower run creation). The background writer
                # checkpoints instead (see checkpoint()), off the caller's path.
                cursor.execute("PRAGMA wal_autocheckpoint = 0")
                cursor.close()

            @event.listens_for(self.engine, "begin")
            def _on_begin(conn: Connection) -> None:
                immediate = conn.get_execution_options().get(_WRITE, False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        self._schema_checked = False
        self._raw: Any = None  # the connection kept for raw_write()

    @property
    def label(self) -> str:
        return redact(self.url)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (ended, not committed, on exit)."""
        self.ensure_schema()
        with self.translate_errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed on normal exit, rolled back on error."""
        self.ensure_schema()
        with self.translate_errors(), self.engine.connect() as raw:
            conn = raw.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def raw_write(self) -> Iterator[tuple[Any, str]]:
        """A DB-API cursor in a write transaction, and the driver's parameter style.

        For the hot path where SQLAlchemy's per-statement overhead dominates (batched
        tracking writes); everything else uses :meth:`write`. Callers serialize their use
        (the background writer holds its lock), so one connection is kept checked out for
        it: no pool checkout and reset per batch.
        """
        self.ensure_schema()
        dbapi = self.engine.dialect.dbapi
        assert dbapi is not None
        if self._raw is None:
            with self.translate_errors():
                self._raw = self.engine.raw_connection()
        conn = self._raw
        cursor = conn.cursor()
        sqlite = self.dialect == "sqlite"
        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield cursor, self.engine.dialect.paramstyle
            if sqlite:
                cursor.execute("COMMIT")
            else:
                conn.commit()
        except BaseException as exc:
            try:
                conn.rollback()
            except dbapi.Error:
                pass
            if isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError):
                self._drop_raw()  # the connection may be broken: start afresh next time
            if isinstance(exc, dbapi.OperationalError):
                raise self._unavailable(exc) from None
            raise
        finally:
            try:
                cursor.close()
            except dbapi.Error:
                pass

    def _drop_raw(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            try:
                raw.invalidate()
            except Exception:  # noqa: BLE001 - already broken; nothing more to do
                pass

    def checkpoint(self) -> None:
        """Copy the SQLite write-ahead log into the database file (no-op on PostgreSQL)."""
        if self.sqlite_path is None:
            return
        with self.translate_errors(), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def ensure_schema(self) -> None:
        """Create or upgrade the schema on first use (see :mod:`keel.store.migrate`)."""
        if self._schema_checked:
            return
        from keel.store.migrate import ensure_schema

        with self.translate_errors():
            ensure_schema(self)
        self._schema_checked = True

    def dispose(self) -> None:
        if self._raw is not None:
            try:
                self._raw.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._raw = None
        self.engine.dispose()

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver errors into Keel errors that name this store and the fix."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            yield
        except KeelError:
            raise
        except OperationalError as exc:
            raise self._unavailable(exc) from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise self._unavailable(exc) from None
            raise

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        raw = str(getattr(exc, "orig", exc) or exc).strip()
        first = next((line.strip() for line in raw.splitlines() if line.strip()), type(exc).__name__)
        lowered = raw.lower()
        if "database is locked" in lowered or "database table is locked" in lowered:
            return StoreUnavailable(
                f"The metadata store {self.label} stayed locked by another writer for longer than "
                f"{self.settings.sqlite_busy_timeout:g} s; retry, or raise KEEL_SQLITE_BUSY_TIMEOUT."
            )
        if "fatal:" in first.lower():
            first = first[first.lower().index("fatal:") + len("fatal:") :].strip()
        if "authentication failed" in lowered:
            hint = "check the user and password in KEEL_DB_URL"
        elif "role" in lowered and "does not exist" in lowered:
            hint = "check the user name in KEEL_DB_URL (or create the role)"
        elif "does not exist" in lowered and "database" in lowered:
            hint = "create the database (createdb) or fix its name in KEEL_DB_URL"
        elif "unable to open database file" in lowered:
            hint = "check that the folder exists and is writable"
        elif "file is not a database" in lowered:
            hint = "the file is not a Keel SQLite store; point KEEL_DB_URL elsewhere"
        elif self.dialect == "postgresql":
            hint = "check the host and port in KEEL_DB_URL and that the server is running"
        else:
            hint = "check KEEL_DB_URL"
        return StoreUnavailable(f"Cannot use the metadata store {self.label}: {first}; {hint}.")
