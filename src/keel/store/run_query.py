"""Reading runs: the filter grammar compiled to SQLAlchemy, search, hydration, history.

Conditions on metrics, params and tags become ``runs.id IN (SELECT run_id …)`` subqueries:
both SQLite and PostgreSQL drive them from the (key, value) indexes, so a selective filter
does not scan every run, and a broad one stops as soon as the page is full.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, false, func, literal, not_, or_, select, true

from keel.core.entities import Artifact, MetricPoint, Run, RunDataset
from keel.core.errors import InvalidInput
from keel.core.run_filter import (
    BoolOp,
    Comparison,
    Field,
    Membership,
    Node,
    Not,
    NullCheck,
    OrderKey,
    Value,
)
from keel.store.metric_codec import unpack
from keel.store.rows import HEAD_LENGTH
from keel.store.schema import (
    experiments,
    latest_metrics,
    metric_chunks,
    params,
    run_datasets,
    runs,
    tags,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement as Col

_CHUNK = 1000


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column != value  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    raise InvalidInput(f"Unknown operator {op!r}.")


def _text_of(value: Value) -> str:
    """The stored text form of a literal compared with a param or tag."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def _text_condition(table: Any, op: str, value: Value) -> ColumnElement[bool]:
    text = _text_of(value)
    if op == "=":
        return and_(table.c.value_head == text[:HEAD_LENGTH], table.c.value == text)
    return _compare(table.c.value, op, text)


class _Plan:
    """How each metric/param/tag condition becomes SQL.

    Two shapes, each fast where the other is slow (measured on 100,000 runs): a correlated
    ``EXISTS`` probe per run, walking runs newest first and stopping once the page is full
    (best when many runs match), or ``runs.id IN (SELECT run_id … )`` driven from the
    ``(key, value)`` index (best when few match). A condition of the top-level ``and`` chain
    is *selective* when a capped count over its index stays under the cap; selective
    conditions drive, the others probe.
    """

    def __init__(self, conn: Connection | None, node: Node | None, cap: int) -> None:
        self.drivers: set[int] = set()
        if conn is None or node is None:
            return
        atoms = list(node.items) if isinstance(node, BoolOp) and node.op == "and" else [node]
        for atom in atoms:
            estimate = _estimate(atom)
            if estimate is None:
                continue
            table, key, condition = estimate
            inner = select(literal(1)).where(and_(table.c.key == key, condition)).limit(cap).subquery()
            count = conn.execute(select(func.count()).select_from(inner)).scalar_one()
            if count < cap:
                self.drivers.add(id(atom))

    def keyed(self, node: Node, table: Any, key: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        if id(node) in self.drivers:
            return runs.c.id.in_(select(table.c.run_id).where(and_(table.c.key == key, condition)))
        probe = select(literal(1)).where(and_(table.c.run_id == runs.c.id, table.c.key == key, condition))
        return exists(probe)


def _estimate(node: Node) -> tuple[Any, str, ColumnElement[bool]] | None:
    """(table, key, index-only condition) to count a condition's matches, when that is cheap."""
    if isinstance(node, Comparison) and node.op in ("=", "<", "<=", ">", ">="):
        field, value = node.field, node.value
        if field.kind == "metric" and isinstance(value, float) and not math.isnan(value):
            return latest_metrics, field.key, _compare(latest_metrics.c.value, node.op, value)
        if field.kind in ("param", "tag") and node.op == "=" and isinstance(value, str):
            table = params if field.kind == "param" else tags
            return table, field.key, table.c.value_head == value[:HEAD_LENGTH]
    if isinstance(node, Membership) and not node.negated and node.field.kind in ("param", "tag"):
        table = params if node.field.kind == "param" else tags
        heads = [_text_of(v)[:HEAD_LENGTH] for v in node.values]
        return table, node.field.key, table.c.value_head.in_(heads)
    return None


def _attribute_column(name: str) -> Any:
    if name == "experiment":
        return experiments.c.name
    if name == "user":
        return runs.c.username
    if name == "duration":
        return runs.c.end_time - runs.c.start_time
    return runs.c[name]


def _condition(node: Node, plan: _Plan) -> ColumnElement[bool]:
    if isinstance(node, BoolOp):
        parts = [_condition(item, plan) for item in node.items]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(_condition(node.item, plan))
    if isinstance(node, NullCheck):
        return _null_check(node, plan)
    if isinstance(node, Membership):
        return _membership(node, plan)
    return _comparison(node, plan)


def _null_check(node: NullCheck, plan: _Plan) -> ColumnElement[bool]:
    field = node.field
    if field.kind == "attribute":
        column = _attribute_column(field.key)
        return column.isnot(None) if node.negated else column.is_(None)  # type: ignore[no-any-return]
    table = {"metric": latest_metrics, "param": params, "tag": tags}[field.kind]
    present = plan.keyed(node, table, field.key, true())
    return present if node.negated else not_(present)


def _membership(node: Membership, plan: _Plan) -> ColumnElement[bool]:
    field = node.field
    if field.kind == "attribute":
        column = _attribute_column(field.key)
        values: list[Any] = list(node.values)
        return column.notin_(values) if node.negated else column.in_(values)  # type: ignore[no-any-return]
    if field.kind == "metric":
        column = latest_metrics.c.value
        in_list: ColumnElement[bool] = column.notin_(node.values) if node.negated else column.in_(node.values)
        return plan.keyed(node, latest_metrics, field.key, in_list)
    table = params if field.kind == "param" else tags
    texts = [_text_of(v) for v in node.values]
    cond: ColumnElement[bool]
    if node.negated:
        cond = table.c.value.notin_(texts)
    else:
        cond = and_(table.c.value_head.in_([t[:HEAD_LENGTH] for t in texts]), table.c.value.in_(texts))
    return plan.keyed(node, table, field.key, cond)


def _comparison(node: Comparison, plan: _Plan) -> ColumnElement[bool]:
    field, op, value = node.field, node.op, node.value
    if field.kind == "attribute":
        return _compare(_attribute_column(field.key), op, value)
    if field.kind == "metric":
        assert isinstance(value, float)
        if math.isnan(value):
            return false()
        return plan.keyed(node, latest_metrics, field.key, _compare(latest_metrics.c.value, op, value))
    if field.kind == "param":
        if isinstance(value, float) and op not in ("=", "!="):
            return plan.keyed(node, params, field.key, _compare(params.c.value_num, op, value))
        if isinstance(value, float):
            numeric = _compare(params.c.value_num, op, value)
            textual = _text_condition(params, op, value)
            either = or_(numeric, textual) if op == "=" else and_(numeric, textual)
            return plan.keyed(node, params, field.key, either)
        return plan.keyed(node, params, field.key, _text_condition(params, op, value))
    return plan.keyed(node, tags, field.key, _text_condition(tags, op, value))


def _mentions_experiment(node: Node | None, order: Sequence[OrderKey]) -> bool:
    if any(k.field == Field("attribute", "experiment") for k in order):
        return True
    stack = [node] if node is not None else []
    while stack:
        item = stack.pop()
        if isinstance(item, BoolOp):
            stack.extend(item.items)
        elif isinstance(item, Not):
            stack.append(item.item)
        elif item.field == Field("attribute", "experiment"):
            return True
    return False


def _order_columns(order: Sequence[OrderKey]) -> tuple[list[Any], list[Any]]:
    """(ORDER BY clauses, outer joins needed) for ``order``."""
    clauses: list[Any] = []
    joins: list[Any] = []
    for index, key in enumerate(order):
        field = key.field
        if field.kind == "attribute":
            column = _attribute_column(field.key)
            columns = [column]
        else:
            table = {"metric": latest_metrics, "param": params, "tag": tags}[field.kind]
            alias = table.alias(f"order_{index}")
            joins.append((alias, and_(alias.c.run_id == runs.c.id, alias.c.key == field.key)))
            columns = [alias.c.value_num, alias.c.value] if field.kind == "param" else [alias.c.value]
        for column in columns:
            clause = column.desc() if key.descending else column.asc()
            clauses.append(clause.nulls_last())
    clauses += [runs.c.start_time.desc(), runs.c.id.desc()]
    return clauses, joins


def search_run_ids(
    conn: Connection,
    node: Node | None,
    experiment_ids: Sequence[int] | None,
    order: Sequence[OrderKey],
    max_results: int,
    include_deleted: bool = False,
    parent_id: str | None = None,
) -> list[str]:
    source = runs
    if _mentions_experiment(node, order):
        source = runs.join(experiments, experiments.c.id == runs.c.experiment_id)  # type: ignore[assignment]
    query = select(runs.c.id).select_from(source)
    conditions: list[Col[bool]] = []
    if node is not None:
        plan = _Plan(conn, node, cap=max(5 * max_results, 5000))
        conditions.append(_condition(node, plan))
    if experiment_ids is not None:
        conditions.append(runs.c.experiment_id.in_(list(experiment_ids)) if experiment_ids else false())
    if not include_deleted:
        conditions.append(runs.c.deleted_at.is_(None))
    if parent_id is not None:
        conditions.append(runs.c.parent_id == parent_id)
    clauses, joins = _order_columns(order)
    for alias, on in joins:
        query = query.outerjoin(alias, on)
    query = query.where(and_(true(), *conditions)).order_by(*clauses).limit(max_results)
    return [str(row[0]) for row in conn.execute(query)]


def _driver(conn: Connection) -> tuple[Any, str]:
    """The DB-API connection under ``conn`` (same transaction) and its parameter mark."""
    raw = conn.connection.driver_connection
    return raw, "%s" if conn.dialect.name == "postgresql" else "?"


def _in_list(mark: str, count: int) -> str:
    # PostgreSQL takes the whole list as one array parameter; SQLite one mark per value.
    return f"= ANY({mark})" if mark == "%s" else f"IN ({', '.join('?' * count)})"


def _fetch(cursor: Any, mark: str, sql: str, ids: list[str]) -> list[tuple[Any, ...]]:
    cursor.execute(sql.format(ids=_in_list(mark, len(ids))), [ids] if mark == "%s" else ids)
    return list(cursor.fetchall())


_RUN_SQL = (
    "SELECT r.id, e.name, r.name, r.status, r.kind, r.parent_id, r.start_time, r.end_time, "
    "r.context, r.deleted_at, r.summary FROM runs r JOIN experiments e ON e.id = r.experiment_id "
    "WHERE r.id {ids}"
)
_PARAM_SQL = 'SELECT run_id, "key", "value", value_num, is_string FROM params WHERE run_id {ids}'
_METRIC_SQL = 'SELECT run_id, "key", "value" FROM latest_metrics WHERE run_id {ids}'
_TAG_SQL = 'SELECT run_id, "key", "value" FROM tags WHERE run_id {ids}'
_ARTIFACT_SQL = "SELECT run_id, name, oid, size FROM artifacts WHERE run_id {ids} ORDER BY name"
_DATASET_SQL = 'SELECT run_id, direction, path, oid, kind, size, files, "rows" FROM run_datasets WHERE run_id {ids} ORDER BY path'


def load_runs(conn: Connection, run_ids: Sequence[str], with_artifacts: bool = True) -> list[Run]:
    """Full :class:`Run` snapshots for ``run_ids``, in that order.

    This is the read hot path (a search page of 1,000 runs reads ~12,000 rows): rows come
    straight from the DB-API cursor, one query per table per 1,000 runs.
    """
    if not run_ids:
        return []
    raw, mark = _driver(conn)
    cursor = raw.cursor()
    rows: dict[str, tuple[Any, ...]] = {}
    found_params: dict[str, dict[str, Any]] = {rid: {} for rid in run_ids}
    found_metrics: dict[str, dict[str, float]] = {rid: {} for rid in run_ids}
    found_tags: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
    found_artifacts: dict[str, list[Artifact]] = {rid: [] for rid in run_ids}
    found_datasets: dict[str, list[RunDataset]] = {rid: [] for rid in run_ids}
    nan = math.nan
    try:
        for start in range(0, len(run_ids), _CHUNK):
            chunk = list(run_ids[start : start + _CHUNK])
            unsummarized = []
            for row in _fetch(cursor, mark, _RUN_SQL, chunk):
                rows[row[0]] = row
                if row[10] is None:
                    unsummarized.append(row[0])
                else:
                    _read_summary(row[10], found_params[row[0]], found_metrics[row[0]], found_tags[row[0]])
            if unsummarized:  # written by something other than Keel's writer: read the tables
                for rid, key, text, number, is_string in _fetch(cursor, mark, _PARAM_SQL, unsummarized):
                    found_params[rid][key] = text if is_string else decode_param(text, number)
                for rid, key, value in _fetch(cursor, mark, _METRIC_SQL, unsummarized):
                    found_metrics[rid][key] = nan if value is None else value
                for rid, key, value in _fetch(cursor, mark, _TAG_SQL, unsummarized):
                    found_tags[rid][key] = value
            if with_artifacts:
                for rid, name, oid, size in _fetch(cursor, mark, _ARTIFACT_SQL, chunk):
                    found_artifacts[rid].append(Artifact(name, oid, size))
                for rid, *rest in _fetch(cursor, mark, _DATASET_SQL, chunk):
                    found_datasets[rid].append(RunDataset(*rest))
    finally:
        cursor.close()
    out = []
    for rid in run_ids:
        found = rows.get(rid)
        if found is None:
            continue
        _, experiment, name, status, kind, parent_id, start_time, end_time, context, deleted_at, _ = found
        out.append(
            Run(
                id=rid,
                experiment=experiment,
                name=name,
                status=status,
                kind=kind,
                parent_id=parent_id,
                start_time=datetime.fromtimestamp(start_time, tz=UTC),
                end_time=None if end_time is None else datetime.fromtimestamp(end_time, tz=UTC),
                params=dict(sorted(found_params[rid].items())),
                metrics=dict(sorted(found_metrics[rid].items())),
                tags=dict(sorted(found_tags[rid].items())),
                context_json=context,
                artifacts=tuple(found_artifacts[rid]),
                deleted=deleted_at is not None,
                datasets=tuple(found_datasets[rid]),
            )
        )
    return out


def _read_summary(
    text: str, params_out: dict[str, Any], metrics_out: dict[str, float], tags_out: dict[str, str]
) -> None:
    doc = json.loads(text)
    for key, (value, is_string) in doc["p"].items():
        params_out[key] = value if is_string else decode_param(value, None)
    for key, value in doc["m"].items():
        metrics_out[key] = math.nan if value is None else float(value)
    tags_out.update(doc["t"])


def decode_param(text: str, number: float | None) -> Any:
    """A non-string param's value from its stored text (fast paths before JSON)."""
    if number is not None:
        if text.lstrip("-").isdigit():
            return int(text)
        return (
            number if text not in ("NaN", "Infinity", "-Infinity") else float(text.replace("Infinity", "inf"))
        )
    if text in _LITERALS:
        return _LITERALS[text]
    return json.loads(text)


_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_SPECIAL_FLOATS = {"NaN", "Infinity", "-Infinity"}
_NUMBER_START = set("-0123456789NI")


def metric_history(conn: Connection, run_id: str, key: str) -> list[MetricPoint]:
    """Every point of one metric, by step, then time, then the order it was logged in."""
    chunks = conn.execute(
        select(metric_chunks.c.steps, metric_chunks.c.timestamps, metric_chunks.c["values"])
        .where(and_(metric_chunks.c.run_id == run_id, metric_chunks.c.key == key))
        .order_by(metric_chunks.c.id)
    )
    points: list[tuple[int, float, float]] = []
    for steps, stamps, values in chunks:
        points.extend(unpack(bytes(steps), bytes(stamps), bytes(values)))
    points.sort(key=_step_time)
    return [MetricPoint(key, value, step, stamp) for step, stamp, value in points]


def _step_time(point: tuple[int, float, float]) -> tuple[int, float]:
    return point[0], point[1]


def metric_keys(conn: Connection, run_id: str) -> list[str]:
    rows = conn.execute(
        select(latest_metrics.c.key).where(latest_metrics.c.run_id == run_id).order_by(latest_metrics.c.key)
    )
    return [str(r[0]) for r in rows]


def dataset_producers(conn: Connection, oids: Sequence[str]) -> dict[str, list[str]]:
    """For each dataset version id, the runs (not deleted) that recorded it as an output, oldest first."""
    if not oids:
        return {}
    query = (
        select(run_datasets.c.oid, run_datasets.c.run_id)
        .join(runs, runs.c.id == run_datasets.c.run_id)
        .where(
            run_datasets.c.oid.in_(sorted(set(oids))),
            run_datasets.c.direction == "output",
            runs.c.deleted_at.is_(None),
        )
        .order_by(runs.c.start_time)
    )
    found: dict[str, list[str]] = {}
    for oid, run_id in conn.execute(query):
        found.setdefault(oid, []).append(run_id)
    return found


def folder_producers(conn: Connection, path: str) -> list[tuple[str, str, str]]:
    """(run id, folder, folder version id) of runs (not deleted) that output a folder holding
    ``path`` (e.g. ``data/processed`` for ``data/processed/train.csv``), oldest first."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts))]
    if not prefixes:
        return []
    query = (
        select(run_datasets.c.run_id, run_datasets.c.path, run_datasets.c.oid)
        .join(runs, runs.c.id == run_datasets.c.run_id)
        .where(
            run_datasets.c.path.in_(prefixes),
            run_datasets.c.direction == "output",
            run_datasets.c.kind == "dir",
            runs.c.deleted_at.is_(None),
        )
        .order_by(runs.c.start_time)
    )
    return [(row.run_id, row.path, row.oid) for row in conn.execute(query)]
