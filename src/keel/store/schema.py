"""Tables of the metadata store (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are seconds since the epoch (UTC) as doubles. In ``latest_metrics`` a value of NaN is
stored as NULL (SQLite cannot store NaN in a REAL column); values are never NULL otherwise. Text columns that
filters compare for equality have a short ``*_head`` twin (the first 200 characters) that
carries the index, because PostgreSQL cannot index arbitrarily long text.

Each committed write touches every B-tree it changes, and on SQLite the commit cost grows with
that page count, so indexes are few: small keyed tables are WITHOUT ROWID (the primary key is
the table), and indexes that only some rows need are partial.

Alembic migrations in ``keel/store/migrations`` create exactly these tables; a test checks
that the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    text,
)

from keel.store.rows import HEAD_LENGTH

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

_RUNNING = "status = 'running'"
_CHILD = "parent_id IS NOT NULL"

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("name", String(250), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("parent_id", String(32), nullable=True),
    Column("start_time", Float, nullable=False),
    Column("end_time", Float, nullable=True),
    Column("username", String(250), nullable=True),
    Column("host", String(250), nullable=True),
    Column("pid", Integer, nullable=True),
    Column("pid_start", BigInteger, nullable=True),
    Column("deleted_at", Float, nullable=True),
    Column("context", Text, nullable=False),
    # The run's params, latest metrics and tags as one JSON document ({"p", "m", "t"}), kept in
    # step with those tables by every write: reading a page of 1,000 runs is then 1,000 rows,
    # not ~12,000 (the tables stay the source of truth for filters).
    Column("summary", Text, nullable=True),
    # Covers the newest-first scan of search (no table rows read until a run matches).
    Index("ix_runs_start_time", "start_time", "id", "experiment_id", "deleted_at"),
    # Partial indexes: only running runs and child runs pay for them (fewer pages per commit).
    # PostgreSQL gets the same conditions from postgresql_partial_indexes().
    Index(None, "status", sqlite_where=text(_RUNNING)),
    Index(None, "parent_id", sqlite_where=text(_CHILD)),
)


def postgresql_partial_indexes() -> None:
    """Give PostgreSQL the conditions of the partial indexes (idempotent). Called when a
    PostgreSQL store is opened: naming ``postgresql_where`` in the table definitions would
    import SQLAlchemy's PostgreSQL dialect into every command on a SQLite store (~30 ms)."""
    conditions = {"status": _RUNNING, "parent_id": _CHILD}
    for index in runs.indexes:
        columns = [column.name for column in index.columns]
        if len(columns) == 1 and columns[0] in conditions:
            index.dialect_options["postgresql"]["where"] = text(conditions[columns[0]])


params = Table(
    "params",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("value_head", String(HEAD_LENGTH), nullable=False),
    Column("value_num", Float, nullable=True),
    Column("is_string", Integer, nullable=False),
    Index(None, "key", "value_head"),
    sqlite_with_rowid=False,
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("value_head", String(HEAD_LENGTH), nullable=False),
    Index(None, "key", "value_head"),
    sqlite_with_rowid=False,
)

#: Metric history, packed: one row holds a run's points of one key from one write batch, as
#: little-endian arrays (int64 steps, float64 timestamps, float64 values). A row per point
#: costs SQLite ~5 µs of index upkeep each; a row per batch keeps logging at memory speed and
#: stores NaN and infinities bit for bit. See docs/architecture.md#metric-history.
metric_chunks = Table(
    "metric_chunks",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("count", Integer, nullable=False),
    Column("min_step", BigInteger, nullable=False),
    Column("max_step", BigInteger, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    Index(None, "run_id", "key"),
)

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", Float, nullable=False),
    Column("value", Float, nullable=True),
    Index(None, "key", "value"),
    sqlite_with_rowid=False,
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(1000), primary_key=True),
    Column("oid", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index(None, "oid"),
)

#: Dataset versions a run read or wrote (keel.log_input / keel.log_output).
run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("direction", String(8), primary_key=True),
    Column("path", String(1000), primary_key=True),
    Column("oid", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("files", Integer, nullable=False),
    Column("rows", BigInteger, nullable=True),
    Index(None, "oid"),
)

#: Run cache: a stage's cache key → the output versions one execution with those inputs made.
stage_cache = Table(
    "stage_cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("stage", String(250), nullable=False),
    Column("outs", Text, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("created_at", Float, nullable=False),
)

#: The model registry. A model has numbered versions, each a package (a tree in the object
#: store) usually made by a run; aliases (``production``…) point at one version each, and every
#: move of an alias is kept in ``alias_events``. ``tags`` columns hold a JSON object.
models = Table(
    "models",
    metadata,
    Column("name", String(250), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("description", Text, nullable=True),
    Column("tags", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(250), ForeignKey("models.name", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("package_oid", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("flavor", String(32), nullable=False),
    Column("run_id", String(32), nullable=True, index=True),
    Column("path", String(250), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(250), nullable=True),
    Column("tags", Text, nullable=False),
    sqlite_with_rowid=False,
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(250), ForeignKey("models.name", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    sqlite_with_rowid=False,
)

alias_events = Table(
    "alias_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(250), nullable=False, index=True),
    Column("alias", String(100), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("actor", String(250), nullable=True),
    Column("at", Float, nullable=False),
    Column("reason", Text, nullable=True),
    #: moved with --force past failed or missing required checks
    Column("forced", Boolean, nullable=False, server_default=false()),
)

#: One row per check run: what was checked (subject: a data path or NAME/VERSION, with its
#: dataset or package id) with which spec (path and content hash), and how it went.
check_results = Table(
    "check_results",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("spec", String(500), nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("subject_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("failed", Integer, nullable=False),
    Column("warned", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("report", Text, nullable=False),
    Index("ix_check_results_subject_spec", "subject", "spec", "created_at"),
)

#: Reference profiles (monitoring): a dataset version's sketch, computed once per sketch
#: settings and kept as an object in the object store.
profiles = Table(
    "profiles",
    metadata,
    Column("dataset_oid", String(64), primary_key=True),
    Column("settings", String(64), primary_key=True),
    Column("object_oid", String(64), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)

#: Every evaluation of a monitor rule (keel.yaml ``monitors:``): whether it fired, the action
#: taken (or why not: cooldown, dry run) and its outcome, with the monitor run that measured it.
monitor_events = Table(
    "monitor_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(250), nullable=False),
    Column("at", Float, nullable=False),
    Column("fired", Boolean, nullable=False),
    Column("action", String(32), nullable=True),
    Column("outcome", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("run_id", String(32), nullable=True),
    Index("ix_monitor_events_monitor_at", "monitor", "at"),
)
