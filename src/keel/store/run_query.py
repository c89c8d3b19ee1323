"""Reading runs: the filter grammar compiled to SQLAlchemy, search, hydration, history.

Conditions on metrics, params and tags become ``runs.id IN (SELECT run_id …)`` subqueries:
both SQLite and PostgreSQL drive them from the (key, value) indexes, so a selective filter
does not scan every run, and a broad one stops as soon as the page is full.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, select, true

from keel.core.entities import Artifact, MetricPoint, Run, to_datetime
from keel.core.errors import InvalidInput
from keel.core.keys import param_from_text
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
from keel.store.schema import (
    HEAD_LENGTH,
    artifacts,
    experiments,
    latest_metrics,
    metric_chunks,
    params,
    runs,
    tags,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row
    from sqlalchemy.sql.elements import ColumnElement as Col

_CHUNK = 500


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


def _keyed(table: Any, key: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return runs.c.id.in_(select(table.c.run_id).where(and_(table.c.key == key, condition)))


def _attribute_column(name: str) -> Any:
    if name == "experiment":
        return experiments.c.name
    if name == "user":
        return runs.c.username
    if name == "duration":
        return runs.c.end_time - runs.c.start_time
    return runs.c[name]


def _condition(node: Node) -> ColumnElement[bool]:
    if isinstance(node, BoolOp):
        parts = [_condition(item) for item in node.items]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(_condition(node.item))
    if isinstance(node, NullCheck):
        return _null_check(node.field, node.negated)
    if isinstance(node, Membership):
        return _membership(node)
    return _comparison(node)


def _null_check(field: Field, negated: bool) -> ColumnElement[bool]:
    if field.kind == "attribute":
        column = _attribute_column(field.key)
        return column.isnot(None) if negated else column.is_(None)  # type: ignore[no-any-return]
    table = {"metric": latest_metrics, "param": params, "tag": tags}[field.kind]
    present = runs.c.id.in_(select(table.c.run_id).where(table.c.key == field.key))
    return present if negated else not_(present)


def _membership(node: Membership) -> ColumnElement[bool]:
    field = node.field
    if field.kind == "attribute":
        column = _attribute_column(field.key)
        values: list[Any] = list(node.values)
        return column.notin_(values) if node.negated else column.in_(values)  # type: ignore[no-any-return]
    if field.kind == "metric":
        column = latest_metrics.c.value
        in_list: ColumnElement[bool] = column.notin_(node.values) if node.negated else column.in_(node.values)
        return _keyed(latest_metrics, field.key, in_list)
    table = params if field.kind == "param" else tags
    texts = [_text_of(v) for v in node.values]
    cond: ColumnElement[bool]
    if node.negated:
        cond = table.c.value.notin_(texts)
    else:
        cond = and_(table.c.value_head.in_([t[:HEAD_LENGTH] for t in texts]), table.c.value.in_(texts))
    return _keyed(table, field.key, cond)


def _comparison(node: Comparison) -> ColumnElement[bool]:
    field, op, value = node.field, node.op, node.value
    if field.kind == "attribute":
        return _compare(_attribute_column(field.key), op, value)
    if field.kind == "metric":
        assert isinstance(value, float)
        if math.isnan(value):
            return false()
        return _keyed(latest_metrics, field.key, _compare(latest_metrics.c.value, op, value))
    if field.kind == "param":
        if isinstance(value, float) and op not in ("=", "!="):
            return _keyed(params, field.key, _compare(params.c.value_num, op, value))
        if isinstance(value, float):
            numeric = _compare(params.c.value_num, op, value)
            textual = _text_condition(params, op, value)
            either = or_(numeric, textual) if op == "=" else and_(numeric, textual)
            return _keyed(params, field.key, either)
        return _keyed(params, field.key, _text_condition(params, op, value))
    return _keyed(tags, field.key, _text_condition(tags, op, value))


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
    query = select(runs.c.id).select_from(runs.join(experiments, experiments.c.id == runs.c.experiment_id))
    conditions: list[Col[bool]] = []
    if node is not None:
        conditions.append(_condition(node))
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


def load_runs(conn: Connection, run_ids: Sequence[str], with_artifacts: bool = True) -> list[Run]:
    """Full :class:`Run` snapshots for ``run_ids``, in that order."""
    if not run_ids:
        return []
    rows: dict[str, Row[Any]] = {}
    found_params: dict[str, dict[str, Any]] = {rid: {} for rid in run_ids}
    found_metrics: dict[str, dict[str, float]] = {rid: {} for rid in run_ids}
    found_tags: dict[str, dict[str, str]] = {rid: {} for rid in run_ids}
    found_artifacts: dict[str, list[Artifact]] = {rid: [] for rid in run_ids}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start : start + _CHUNK])
        for row in conn.execute(
            select(runs, experiments.c.name.label("experiment_name"))
            .join(experiments, experiments.c.id == runs.c.experiment_id)
            .where(runs.c.id.in_(chunk))
        ):
            rows[row.id] = row
        for p in conn.execute(
            select(
                params.c.run_id, params.c.key, params.c.value, params.c.value_num, params.c.is_string
            ).where(params.c.run_id.in_(chunk))
        ):
            found_params[p.run_id][p.key] = param_from_text(p.value, p.value_num, bool(p.is_string))
        for m in conn.execute(
            select(latest_metrics.c.run_id, latest_metrics.c.key, latest_metrics.c.value).where(
                latest_metrics.c.run_id.in_(chunk)
            )
        ):
            found_metrics[m.run_id][m.key] = math.nan if m.value is None else m.value
        for t in conn.execute(
            select(tags.c.run_id, tags.c.key, tags.c.value).where(tags.c.run_id.in_(chunk))
        ):
            found_tags[t.run_id][t.key] = t.value
        if with_artifacts:
            for a in conn.execute(
                select(artifacts).where(artifacts.c.run_id.in_(chunk)).order_by(artifacts.c.name)
            ):
                found_artifacts[a.run_id].append(Artifact(a.name, a.oid, a.size))
    out = []
    for rid in run_ids:
        found = rows.get(rid)
        if found is None:
            continue
        row = found
        start_time = to_datetime(row.start_time)
        assert start_time is not None
        out.append(
            Run(
                id=row.id,
                experiment=row.experiment_name,
                name=row.name,
                status=row.status,
                kind=row.kind,
                parent_id=row.parent_id,
                start_time=start_time,
                end_time=to_datetime(row.end_time),
                params=dict(sorted(found_params[rid].items())),
                metrics=dict(sorted(found_metrics[rid].items())),
                tags=dict(sorted(found_tags[rid].items())),
                context=_context(row.context),
                artifacts=tuple(found_artifacts[rid]),
                deleted=row.deleted_at is not None,
            )
        )
    return out


def _context(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


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
