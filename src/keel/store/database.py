"""Connections to the metadata store: SQLite (embedded) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout. Write transactions start with
``BEGIN IMMEDIATE`` so a writer takes the lock up front and waits its turn (a deferred
transaction that later upgrades to a write lock fails at once instead of waiting). Driver
errors are translated here, at the seam, into :class:`StoreUnavailable` messages that name
the store (password hidden) and the fix.

A SQLite store at its current schema revision is also reachable without SQLAlchemy: the raw
cursors (:meth:`Database.raw_read`, :meth:`Database.raw_write`) then use one ``sqlite3``
connection of their own, and the engine is built only when something asks for it. Recording
runs (a pipeline's stages, ``keel track``) goes through those cursors alone, so it never pays
SQLAlchemy's import (0.15–0.2 s).
"""

from __future__ import annotations

import re
import sqlite3
import threading
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


def plain_sqlite_file(url: str) -> Path | None:
    """The file of a plain ``sqlite:///PATH`` URL (no query, no escapes), else None."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url or "%" in url:
        return None
    rest = url[len(prefix) :]
    return Path(rest) if rest not in ("", ":memory:") else None


def configure_sqlite(conn: Any, settings: Settings) -> None:
    """The settings of every SQLite connection to a store (``conn``: a ``sqlite3`` connection)."""
    # Let the caller issue BEGIN, so writes can use IMMEDIATE.
    conn.isolation_level = None
    cursor = conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(settings.sqlite_busy_timeout * 1000)}")
    # Durability first: a new file's switch to WAL then syncs as configured.
    cursor.execute(f"PRAGMA synchronous = {settings.sqlite_synchronous.upper()}")
    enable_wal(cursor, settings.sqlite_busy_timeout)
    cursor.execute("PRAGMA foreign_keys = ON")
    # Search reads many small rows at random: a bigger page cache and memory-mapped
    # reads (no read() per page) halve a 100,000-run search.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.execute("PRAGMA mmap_size = 268435456")
    # Checkpoints fsync; left to SQLite they land inside whichever commit crosses
    # the threshold (measured: 3x slower run creation). The background writer
    # checkpoints instead (see Database.checkpoint()), off the caller's path.
    cursor.execute("PRAGMA wal_autocheckpoint = 0")
    cursor.close()


class Database:
    """One metadata store. Create once per process and share; it is thread-safe."""

    def __init__(self, url: str, settings: Settings) -> None:
        self.url = url
        self.settings = settings
        self.sqlite_path: Path | None = plain_sqlite_file(url)
        self.dialect = "sqlite"
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._direct: sqlite3.Connection | None = None  # SQLite: the raw cursors' connection
        self._direct_lock = threading.RLock()
        self._schema_checked = False
        self._raw: Any = None  # PostgreSQL: the connection kept for raw_write()
        self._raw_lock = threading.RLock()
        #: A plain SQLite file: the raw cursors use their own sqlite3 connection
        self._direct_ok = self.sqlite_path is not None
        if self.sqlite_path is None:
            self._engine = self._create_engine()  # other URLs are checked at once

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (built on first use for a plain SQLite URL)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        url, settings = self.url, self.settings
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
            engine = create_engine(url, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise ConfigError(
                f"No database driver for {redact(url)!r} ({exc}); use postgresql+psycopg:// "
                "(installed with Keel) or sqlite:///."
            ) from None
        if self.dialect == "sqlite":

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                configure_sqlite(dbapi_conn, settings)

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                immediate = conn.get_execution_options().get(_WRITE, False)
                conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

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
    def raw_read(self) -> Iterator[tuple[Any, str]]:
        """A DB-API cursor for reads, and the driver's parameter style (``qmark`` or
        ``format``): for the few queries of the run-recording path, written as plain SQL."""
        self.ensure_schema()
        if self._direct_ok:
            with self._sqlite_cursor(write=False) as cursor:
                yield cursor, "qmark"
            return
        with self.read() as conn:
            pooled = conn.connection.cursor()
            try:
                yield pooled, self.engine.dialect.paramstyle
            finally:
                pooled.close()

    @contextmanager
    def raw_write(self) -> Iterator[tuple[Any, str]]:
        """A DB-API cursor in a write transaction, and the driver's parameter style.

        For the hot path where SQLAlchemy's per-statement overhead dominates (batched
        tracking writes, the run cache, experiments); everything else uses :meth:`write`.
        One connection is kept checked out for it (no pool checkout and reset per batch),
        used by one transaction at a time, whichever thread asks.
        """
        self.ensure_schema()
        if self._direct_ok:
            with self._sqlite_cursor(write=True) as cursor:
                yield cursor, "qmark"
            return
        # One transaction at a time on the kept connection.
        with self._raw_lock, self._engine_raw_write() as written:
            yield written

    @contextmanager
    def _engine_raw_write(self) -> Iterator[tuple[Any, str]]:
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

    @contextmanager
    def _sqlite_cursor(self, write: bool) -> Iterator[sqlite3.Cursor]:
        """A cursor on the direct SQLite connection, held alone; in a write transaction
        (``BEGIN IMMEDIATE`` … ``COMMIT``) when ``write``."""
        with self._direct_lock:
            try:
                conn = self._direct_connection()
                cursor = conn.cursor()
            except sqlite3.Error as exc:
                self._close_direct()
                raise self._unavailable(exc) from None
            try:
                if write:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                if write:
                    cursor.execute("COMMIT")
            except BaseException as exc:
                try:
                    cursor.close()
                    if conn.in_transaction:
                        conn.rollback()
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.OperationalError):
                    self._close_direct()  # the connection may be broken: start afresh next time
                    raise self._unavailable(exc) from None
                raise
            cursor.close()

    def _direct_connection(self) -> sqlite3.Connection:
        if self._direct is None:
            assert self.sqlite_path is not None
            conn = sqlite3.connect(
                self.sqlite_path, timeout=self.settings.sqlite_busy_timeout, check_same_thread=False
            )
            try:
                configure_sqlite(conn, self.settings)
            except BaseException:
                conn.close()
                raise
            self._direct = conn
        return self._direct

    def _close_direct(self) -> None:
        with self._direct_lock:
            direct, self._direct = self._direct, None
            if direct is not None:
                try:
                    direct.close()
                except sqlite3.Error:
                    pass

    def _direct_revision(self) -> str | None:
        """The schema revision of a plain SQLite store, read without SQLAlchemy; None when
        the file is missing, empty, or cannot be read this way (the engine then tells why)."""
        assert self.sqlite_path is not None
        if not self.sqlite_path.is_file():
            return None
        with self._direct_lock:
            try:
                row = self._direct_connection().execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.Error:
                self._close_direct()
                return None
        return None if row is None else str(row[0])

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
        if self._direct_ok:
            with self._sqlite_cursor(write=False) as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return
        with self.translate_errors(), self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def ensure_schema(self) -> None:
        """Create or upgrade the schema on first use (see :mod:`keel.store.migrate`)."""
        if self._schema_checked:
            return
        from keel.store.migrate import HEAD, ensure_schema

        if self._direct_ok and self._direct_revision() == HEAD:
            self._schema_checked = True
            return

        with self.translate_errors():
            ensure_schema(self)
        self._schema_checked = True

    def dispose(self) -> None:
        self._close_direct()
        if self._raw is not None:
            try:
                self._raw.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._raw = None
        if self._engine is not None:
            self._engine.dispose()

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
