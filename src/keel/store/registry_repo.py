"""The model registry's rows: models, versions, aliases and alias moves."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from keel.core.entities import to_datetime
from keel.core.errors import Conflict, NotFound
from keel.core.models import AliasEvent, ModelRef, ModelVersion, RegisteredModel
from keel.store.schema import alias_events, model_aliases, model_versions, models

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

    from keel.store.database import Database


def _tags(text: str | None) -> dict[str, str]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _when(epoch: float) -> Any:
    return to_datetime(epoch)


def _version(row: Row[Any], aliases: tuple[str, ...] = ()) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=int(row.version),
        package_oid=row.package_oid,
        size=int(row.size),
        flavor=row.flavor,
        run_id=row.run_id,
        path=row.path,
        created=_when(row.created_at),
        created_by=row.created_by,
        tags=_tags(row.tags),
        aliases=aliases,
    )


def _aliases_of(conn: Connection, name: str) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    rows = conn.execute(
        select(model_aliases.c.alias, model_aliases.c.version)
        .where(model_aliases.c.name == name)
        .order_by(model_aliases.c.alias)
    )
    for alias, version in rows:
        found.setdefault(int(version), []).append(alias)
    return {v: tuple(a) for v, a in found.items()}


def _require_model(conn: Connection, name: str) -> None:
    if conn.execute(select(models.c.name).where(models.c.name == name)).first() is None:
        known = conn.execute(select(models.c.name).order_by(models.c.name).limit(20)).scalars().all()
        hint = f"registered models: {', '.join(known)}" if known else "no model is registered yet"
        raise NotFound(f"No model named {name!r}; {hint} (keel models list).")


# -- writes ------------------------------------------------------------------------------------


def create_version(
    db: Database,
    *,
    name: str,
    package_oid: str,
    size: int,
    flavor: str,
    run_id: str | None,
    path: str,
    created_by: str | None,
    tags: dict[str, str] | None = None,
) -> int:
    """Register a new version of ``name`` (creating the model); return its number.

    Numbers are max + 1 inside the write transaction; two writers racing for the same number
    (PostgreSQL) make one retry.
    """
    for _ in range(20):
        try:
            with db.write() as conn:
                now = time.time()
                if conn.execute(select(models.c.name).where(models.c.name == name)).first() is None:
                    conn.execute(
                        models.insert().values(name=name, created_at=now, description=None, tags="{}")
                    )
                latest = conn.execute(
                    select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
                ).scalar()
                number = int(latest or 0) + 1
                conn.execute(
                    model_versions.insert().values(
                        name=name,
                        version=number,
                        package_oid=package_oid,
                        size=size,
                        flavor=flavor,
                        run_id=run_id,
                        path=path,
                        created_at=now,
                        created_by=created_by,
                        tags=json.dumps(tags or {}, sort_keys=True),
                    )
                )
                return number
        except SAIntegrityError:
            continue  # another writer took the number (or created the model) meanwhile
    raise Conflict(f"Could not register a version of {name!r}: too many concurrent registrations; retry.")


def set_alias(
    db: Database,
    name: str,
    alias: str,
    version: int,
    actor: str | None,
    reason: str | None,
    forced: bool = False,
) -> int | None:
    """Point ``alias`` at ``version`` (recording the move); return the version it left, if any."""
    with db.write() as conn:
        get_version(conn, ModelRef(name, version=version))
        previous = conn.execute(
            select(model_aliases.c.version).where(
                model_aliases.c.name == name, model_aliases.c.alias == alias
            )
        ).scalar()
        now = time.time()
        if previous is None:
            conn.execute(
                model_aliases.insert().values(name=name, alias=alias, version=version, updated_at=now)
            )
        else:
            conn.execute(
                update(model_aliases)
                .where(model_aliases.c.name == name, model_aliases.c.alias == alias)
                .values(version=version, updated_at=now)
            )
        _record_move(conn, name, alias, previous, version, actor, reason, now, forced)
        return None if previous is None else int(previous)


def _record_move(
    conn: Connection,
    name: str,
    alias: str,
    from_version: int | None,
    to_version: int | None,
    actor: str | None,
    reason: str | None,
    at: float,
    forced: bool = False,
) -> None:
    """Append one alias move to ``alias_events`` (to_version None: the alias was removed)."""
    conn.execute(
        alias_events.insert().values(
            name=name,
            alias=alias,
            from_version=from_version,
            to_version=to_version,
            actor=actor,
            at=at,
            reason=reason,
            forced=forced,
        )
    )


def remove_alias(db: Database, name: str, alias: str, actor: str | None, reason: str | None) -> int:
    """Remove ``alias`` (recording it); return the version it pointed at."""
    with db.write() as conn:
        _require_model(conn, name)
        previous = conn.execute(
            select(model_aliases.c.version).where(
                model_aliases.c.name == name, model_aliases.c.alias == alias
            )
        ).scalar()
        if previous is None:
            raise NotFound(f"Model {name!r} has no alias {alias!r} (keel models show {name}).")
        conn.execute(
            delete(model_aliases).where(model_aliases.c.name == name, model_aliases.c.alias == alias)
        )
        _record_move(conn, name, alias, previous, None, actor, reason, time.time())
        return int(previous)


def set_tags(db: Database, name: str, version: int | None, tags: dict[str, str], remove: list[str]) -> None:
    """Merge ``tags`` into (and drop ``remove`` from) a model's or one version's tags."""
    with db.write() as conn:
        if version is None:
            _require_model(conn, name)
            current = _tags(conn.execute(select(models.c.tags).where(models.c.name == name)).scalar())
        else:
            current = dict(get_version(conn, ModelRef(name, version=version)).tags)
        current.update(tags)
        for key in remove:
            current.pop(key, None)
        text = json.dumps(current, sort_keys=True)
        if version is None:
            conn.execute(update(models).where(models.c.name == name).values(tags=text))
        else:
            conn.execute(
                update(model_versions)
                .where(model_versions.c.name == name, model_versions.c.version == version)
                .values(tags=text)
            )


def set_description(db: Database, name: str, description: str | None) -> None:
    with db.write() as conn:
        _require_model(conn, name)
        conn.execute(update(models).where(models.c.name == name).values(description=description))


def delete_version(db: Database, name: str, version: int) -> ModelVersion:
    """Delete one version; refused while an alias points at it."""
    with db.write() as conn:
        found = get_version(conn, ModelRef(name, version=version))
        if found.aliases:
            names = ", ".join(found.aliases)
            raise Conflict(
                f"{name}/{version} is what {names} point(s) at; move or remove the alias first "
                f"(keel models alias {name} OTHER_VERSION {found.aliases[0]})."
            )
        conn.execute(
            delete(model_versions).where(model_versions.c.name == name, model_versions.c.version == version)
        )
        return found


# -- reads -----------------------------------------------------------------------------------------


def get_version(conn: Connection, ref: ModelRef) -> ModelVersion:
    """The version a reference names (``name``, ``name/3``, ``name@alias``, ``run:ID/path``)."""
    query = select(model_versions)
    if ref.run_id is not None:
        column = model_versions.c.run_id
        match = column == ref.run_id if len(ref.run_id) == 32 else column.like(f"{ref.run_id}%")
        rows = conn.execute(
            query.where(match, model_versions.c.path == ref.path).order_by(model_versions.c.created_at)
        ).all()
        if not rows:
            raise NotFound(f"Run {ref.run_id} logged no model at {ref.path!r} (keel runs show {ref.run_id}).")
        if len({r.run_id for r in rows}) > 1:
            raise NotFound(f"Run id prefix {ref.run_id!r} is ambiguous; give more characters.")
        row = rows[-1]
        return _version(row, _aliases_of(conn, row.name).get(int(row.version), ()))
    assert ref.name is not None
    name = ref.name
    _require_model(conn, name)
    if ref.alias is not None:
        number = conn.execute(
            select(model_aliases.c.version).where(
                model_aliases.c.name == name, model_aliases.c.alias == ref.alias
            )
        ).scalar()
        if number is None:
            known = sorted({a for v in _aliases_of(conn, name).values() for a in v})
            hint = f"its aliases: {', '.join(known)}" if known else "it has no aliases yet"
            raise NotFound(
                f"Model {name!r} has no alias {ref.alias!r}; {hint} (keel models alias {name} VERSION {ref.alias})."
            )
        query = query.where(model_versions.c.name == name, model_versions.c.version == number)
    elif ref.version is not None:
        query = query.where(model_versions.c.name == name, model_versions.c.version == ref.version)
    else:
        query = query.where(model_versions.c.name == name).order_by(model_versions.c.version.desc()).limit(1)
    found = conn.execute(query).first()
    if found is None:
        if ref.version is not None:
            latest = conn.execute(
                select(func.max(model_versions.c.version)).where(model_versions.c.name == name)
            ).scalar()
            raise NotFound(
                f"Model {name!r} has no version {ref.version}"
                + (f"; its latest is {latest}." if latest else "; it has no versions.")
            )
        raise NotFound(f"Model {name!r} has no versions.")
    return _version(found, _aliases_of(conn, name).get(int(found.version), ()))


def list_versions(conn: Connection, name: str) -> list[ModelVersion]:
    _require_model(conn, name)
    aliases = _aliases_of(conn, name)
    rows = conn.execute(
        select(model_versions).where(model_versions.c.name == name).order_by(model_versions.c.version.desc())
    )
    return [_version(row, aliases.get(int(row.version), ())) for row in rows]


def get_model(conn: Connection, name: str) -> RegisteredModel:
    _require_model(conn, name)
    found = list_models(conn, name)
    return found[0]


def list_models(conn: Connection, name: str | None = None) -> list[RegisteredModel]:
    stats = (
        select(
            model_versions.c.name,
            func.max(model_versions.c.version).label("latest"),
            func.count().label("n"),
        )
        .group_by(model_versions.c.name)
        .subquery()
    )
    query = (
        select(models, stats.c.latest, stats.c.n)
        .select_from(models.outerjoin(stats, stats.c.name == models.c.name))
        .order_by(models.c.name)
    )
    if name is not None:
        query = query.where(models.c.name == name)
    alias_rows = conn.execute(select(model_aliases.c.name, model_aliases.c.alias, model_aliases.c.version))
    aliases: dict[str, dict[str, int]] = {}
    for model, alias, version in alias_rows:
        aliases.setdefault(model, {})[alias] = int(version)
    return [
        RegisteredModel(
            name=row.name,
            created=_when(row.created_at),
            description=row.description,
            tags=_tags(row.tags),
            latest_version=None if row.latest is None else int(row.latest),
            versions=int(row.n or 0),
            aliases=dict(sorted(aliases.get(row.name, {}).items())),
        )
        for row in conn.execute(query)
    ]


def alias_history(conn: Connection, name: str, alias: str | None = None) -> list[AliasEvent]:
    _require_model(conn, name)
    query = select(alias_events).where(alias_events.c.name == name)
    if alias is not None:
        query = query.where(alias_events.c.alias == alias)
    rows = conn.execute(query.order_by(alias_events.c.at, alias_events.c.id))
    return [
        AliasEvent(
            name=row.name,
            alias=row.alias,
            from_version=row.from_version,
            to_version=row.to_version,
            actor=row.actor,
            at=_when(row.at),
            reason=row.reason,
            forced=bool(row.forced),
        )
        for row in rows
    ]


def alias_version(conn: Connection, name: str, alias: str) -> int | None:
    """The version ``alias`` points at now, or None (one cheap query: servers poll it)."""
    found = conn.execute(
        select(model_aliases.c.version).where(model_aliases.c.name == name, model_aliases.c.alias == alias)
    ).scalar()
    return None if found is None else int(found)
