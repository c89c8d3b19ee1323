"""Reading what was recorded: runs, search, metric history, experiments, comparisons.

Every read first writes this process's buffered records (so a process always reads its own
writes) and marks runs of this host whose process died as ``dead``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.entities import Experiment, MetricPoint, Run
from keel.core.errors import InvalidInput, NotFound
from keel.core.run_filter import Node, OrderKey, parse_filter, parse_order_by
from keel.tracking.session import Session, get_session

if TYPE_CHECKING:
    import pandas as pd

MAX_RESULTS_LIMIT = 100_000


def _ready(session: Session | None) -> Session:
    session = session or get_session()
    session.flush()
    from keel.store.runs_repo import reap_dead_runs

    reap_dead_runs(session.db)
    return session


def get_run(run_id: str, *, session: Session | None = None) -> Run:
    """The run with id ``run_id`` (a unique prefix is enough)."""
    if not isinstance(run_id, str):
        raise InvalidInput(f"A run id is a string, not {type(run_id).__name__}.")
    session = _ready(session)
    from keel.store.run_query import load_runs
    from keel.store.runs_repo import resolve_run_id

    with session.db.read() as conn:
        full = resolve_run_id(conn, run_id)
        return load_runs(conn, [full])[0]


def get_metric_history(run_id: str, key: str, *, session: Session | None = None) -> list[MetricPoint]:
    """Every logged point of metric ``key`` in run ``run_id``, by step then time."""
    session = _ready(session)
    from keel.store.run_query import metric_history, metric_keys
    from keel.store.runs_repo import resolve_run_id

    with session.db.read() as conn:
        full = resolve_run_id(conn, run_id)
        points = metric_history(conn, full, key)
        if not points:
            keys = metric_keys(conn, full)
            known = ", ".join(keys) if keys else "none"
            raise NotFound(f"Run {full[:12]} has no metric {key!r}; its metrics: {known}.")
    return points


def _experiment_ids(session: Session, experiment: str | Sequence[str] | None) -> list[int] | None:
    if experiment is None:
        return None
    names = [experiment] if isinstance(experiment, str) else list(experiment)
    from keel.store.runs_repo import experiment_id

    with session.db.read() as conn:
        return [experiment_id(conn, name) for name in names]


def search_runs(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    max_results: int = 1000,
    *,
    include_deleted: bool = False,
    parent: str | None = None,
    session: Session | None = None,
) -> list[Run]:
    """Runs matching ``filter``, newest first unless ``order_by`` says otherwise.

    Example::

        keel.search_runs("metrics.acc > 0.5 and params.model = 'rf'", order_by=["metrics.acc desc"])
    """
    node, order = _parse_query(filter, order_by, max_results)
    session = _ready(session)
    from keel.store.run_query import load_runs, search_run_ids
    from keel.store.runs_repo import resolve_run_id

    experiment_ids = _experiment_ids(session, experiment)
    with session.db.read() as conn:
        parent_id = resolve_run_id(conn, parent) if parent is not None else None
        ids = search_run_ids(conn, node, experiment_ids, order, max_results, include_deleted, parent_id)
        return load_runs(conn, ids)


def _parse_query(
    filter: str | None, order_by: str | Sequence[str] | None, max_results: int
) -> tuple[Node | None, tuple[OrderKey, ...]]:
    if filter is not None and not isinstance(filter, str):
        raise InvalidInput(
            f'filter must be a string such as "metrics.acc > 0.5", not {type(filter).__name__}.'
        )
    if (
        not isinstance(max_results, int)
        or isinstance(max_results, bool)
        or not 1 <= max_results <= MAX_RESULTS_LIMIT
    ):
        raise InvalidInput(
            f"max_results must be a whole number from 1 to {MAX_RESULTS_LIMIT}, not {max_results!r}."
        )
    node = parse_filter(filter) if filter and filter.strip() else None
    order = parse_order_by(order_by) if order_by else ()
    return node, order


def search_runs_df(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    max_results: int = 1000,
    *,
    include_deleted: bool = False,
    session: Session | None = None,
) -> pd.DataFrame:
    """:func:`search_runs` as a pandas DataFrame: one row per run, columns ``params.*``,
    ``metrics.*`` and ``tags.*`` beside the run's attributes."""
    import pandas as pd

    found = search_runs(
        filter, experiment, order_by, max_results, include_deleted=include_deleted, session=session
    )
    return pd.DataFrame(runs_table(found))


def runs_table(found: Sequence[Run]) -> list[dict[str, Any]]:
    """Flat rows (one per run) used by the DataFrame and the CLI's JSON output."""
    rows = []
    for run in found:
        row: dict[str, Any] = {
            "run_id": run.id,
            "experiment": run.experiment,
            "name": run.name,
            "status": run.status,
            "kind": run.kind,
            "parent_id": run.parent_id,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "duration": run.duration,
        }
        row.update({f"params.{k}": v for k, v in run.params.items()})
        row.update({f"metrics.{k}": v for k, v in run.metrics.items()})
        row.update({f"tags.{k}": v for k, v in run.tags.items()})
        rows.append(row)
    return rows


def list_experiments(*, session: Session | None = None) -> list[Experiment]:
    session = _ready(session)
    from keel.store.runs_repo import list_experiments as repo_list

    with session.db.read() as conn:
        return repo_list(conn)


def set_run_deleted(run_id: str, deleted: bool, *, session: Session | None = None) -> Run:
    """Move a run to the trash (hidden from lists and search) or back out of it."""
    session = _ready(session)
    from keel.store.runs_repo import resolve_run_id, set_deleted

    with session.db.read() as conn:
        full = resolve_run_id(conn, run_id)
    set_deleted(session.db, full, deleted)
    return get_run(full, session=session)


def compare_runs(run_ids: Sequence[str], *, session: Session | None = None) -> dict[str, Any]:
    """Params and metrics of several runs side by side, with the keys whose values differ."""
    if len(run_ids) < 2:
        raise InvalidInput("Compare needs at least two run ids.")
    found = [get_run(rid, session=session) for rid in run_ids]
    table: dict[str, Any] = {"runs": [r.id for r in found], "names": [r.name for r in found]}
    for section in ("params", "metrics"):
        keys = sorted({k for r in found for k in getattr(r, section)})
        values = {k: [getattr(r, section).get(k) for r in found] for k in keys}
        table[section] = values
        table[f"{section}_differ"] = [k for k, vs in values.items() if not _all_equal(vs)]
    return table


def _all_equal(values: list[Any]) -> bool:
    first = values[0]
    for value in values[1:]:
        both_nan = (
            isinstance(first, float) and isinstance(value, float) and math.isnan(first) and math.isnan(value)
        )
        if value != first and not both_nan:
            return False
    return True


def get_artifact(
    run_id: str, name: str, dest: str | Path | None = None, *, session: Session | None = None
) -> Path:
    """Copy artifact ``name`` of a run to ``dest`` (default: its name in the current folder),
    verifying its content against its object id; return the path written."""
    run = get_run(run_id, session=session)
    session = session or get_session()
    match = next((a for a in run.artifacts if a.name == name), None)
    if match is None:
        known = ", ".join(a.name for a in run.artifacts) or "none"
        raise NotFound(f"Run {run.id[:12]} has no artifact {name!r}; its artifacts: {known}.")
    target = Path(dest) if dest is not None else Path(Path(name).name)
    if target.is_dir():
        target = target / Path(name).name
    return session.objects.copy_to(match.oid, target)
