"""The model registry's Python API: log, load, list, alias, tag, delete, trace lineage.

``keel.log_model`` and ``keel.load_model`` are the entry points most code needs; the CLI's
``keel models …`` commands call the functions below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keel.core.errors import InvalidInput, NotFound
from keel.core.models import (
    DEFAULT_PATH,
    AliasEvent,
    ModelRef,
    ModelVersion,
    RegisteredModel,
    check_alias,
    check_model_name,
    check_version,
    parse_model_ref,
)
from keel.models.flavors import detect, flavor_named, require
from keel.models.model import KeelModel
from keel.models.package import Package, build_package, input_example, read_manifest, unpacked
from keel.models.signature import Signature
from keel.tracking.session import Session, get_session


def session_or_default(session: Session | None) -> Session:
    return session or get_session()


def _ref(ref: str | ModelRef) -> ModelRef:
    return ref if isinstance(ref, ModelRef) else parse_model_ref(ref)


def log_model(
    model: Any,
    name: str,
    input_example: Any = None,
    signature: Signature | Mapping[str, Any] | None = None,
    requirements: list[str] | None = None,
    *,
    flavor: str | None = None,
    path: str = DEFAULT_PATH,
    tags: Mapping[str, Any] | None = None,
    session: Session | None = None,
) -> ModelVersion:
    """Package ``model``, store it, and register it as the next version of ``name``.

    The version is linked to the active run (one is started for the call when there is none):
    its params and metrics are snapshot into the package, and ``keel models lineage`` follows
    the run to its data, code and environment. ``input_example`` (a DataFrame, dict of columns,
    records or 2-D array) gives the signature when ``signature`` is not given.
    """
    from keel.tracking import fluent

    name = check_model_name(name)
    chosen = flavor_named(flavor) if flavor is not None else detect(model)
    if not isinstance(path, str) or not path.strip("/") or len(path) > 250:
        raise InvalidInput(f"Model path {path!r} must be a non-empty name, e.g. 'model'.")
    tag_values = {str(k): str(v) for k, v in (tags or {}).items()}
    run = fluent.active_run()
    own = run is None
    if run is None:
        run = fluent.start_run(name=f"log_model {name}", session=session)
    try:
        active = session_or_default(session if session is not None else run.session)
        package = build_package(
            active.objects,
            model,
            chosen,
            name=name,
            input_example=input_example,
            signature=dict(signature) if isinstance(signature, Mapping) else signature,
            requirements=requirements,
            run_id=run.id,
            metrics=run.metrics,
            params=run.params,
        )
        run.set_tag(f"keel.model.{path.strip('/')}", name)
        run.flush()
        from keel.store.registry_repo import create_version, get_version
        from keel.tracking.context import current_user

        number = create_version(
            active.db,
            name=name,
            package_oid=package.oid,
            size=package.size,
            flavor=chosen.name,
            run_id=run.id,
            path=path.strip("/"),
            created_by=current_user(),
            tags=tag_values,
        )
        with active.db.read() as conn:
            version = get_version(conn, ModelRef(name, version=number))
    except BaseException:
        if own:
            run.end("failed")
        raise
    if own:
        run.end()
    return version


def get_model_version(ref: str | ModelRef, *, session: Session | None = None) -> ModelVersion:
    """The registered version a reference names: ``name``, ``name/3``, ``name@alias``, ``run:ID/path``."""
    from keel.store.registry_repo import get_version

    active = session_or_default(session)
    with active.db.read() as conn:
        return get_version(conn, _ref(ref))


def load_model(ref: str | ModelRef, *, session: Session | None = None) -> KeelModel:
    """Load a registered model, verifying its package against its id before deserializing.

    ``ref`` is ``"name@alias"``, ``"name/3"``, ``"name"`` (the latest version) or
    ``"run:RUN_ID/path"``. The returned model's ``predict(df)`` enforces the signature.
    """
    active = session_or_default(session)
    version = get_model_version(ref, session=active)
    return load_package(active, version)


def ensure_package(session: Session, version: ModelVersion) -> None:
    """Fetch ``version``'s package from the project's default remote when the local store
    lacks it (registered on another machine or a Dask worker); without a remote, leave it:
    loading then says what is missing."""
    from keel.core.errors import InvalidInput, NotFound
    from keel.data.checkout import missing_objects
    from keel.data.context import open_data
    from keel.data.lockfile import TrackedPath

    if session.objects.exists(version.package_oid):
        return  # a package's tree is stored after its files: here means complete (no state.db open)
    tracked = TrackedPath(f"model {version.ref}", version.package_oid, "dir", 0, 0)
    ctx = open_data(workspace=session.workspace)
    try:
        try:
            if not missing_objects(ctx, tracked):
                return
        except NotFound:
            pass  # the package's tree itself is missing
        from keel.data.remotes import connect
        from keel.data.transfer import fetch

        try:
            remote = connect(session.workspace)
        except (NotFound, InvalidInput):
            return
        fetch(ctx, remote, [tracked])
    finally:
        ctx.close()


def load_package(session: Session, version: ModelVersion) -> KeelModel:
    ensure_package(session, version)
    with unpacked(session.objects, version.package_oid) as (package, folder):
        flavor = flavor_named(package.flavor)
        require(flavor, list(package.manifest.get("requirements") or []))
        raw = flavor.load(folder, dict(package.manifest.get("flavor_options") or {}))
        model = KeelModel(raw, flavor, package.manifest, version)
        model.input_example = input_example(folder, package.manifest)
    return model


def package_of(ref: str | ModelRef, *, session: Session | None = None) -> tuple[ModelVersion, Package]:
    active = session_or_default(session)
    version = get_model_version(ref, session=active)
    ensure_package(active, version)
    return version, read_manifest(active.objects, version.package_oid)


def list_models(*, session: Session | None = None) -> list[RegisteredModel]:
    from keel.store import registry_repo

    with session_or_default(session).db.read() as conn:
        return registry_repo.list_models(conn)


def list_versions(name: str, *, session: Session | None = None) -> list[ModelVersion]:
    from keel.store import registry_repo

    with session_or_default(session).db.read() as conn:
        return registry_repo.list_versions(conn, check_model_name(name))


def get_registered_model(name: str, *, session: Session | None = None) -> RegisteredModel:
    from keel.store import registry_repo

    with session_or_default(session).db.read() as conn:
        return registry_repo.get_model(conn, check_model_name(name))


def set_alias(
    name: str,
    version: int | str,
    alias: str,
    *,
    reason: str | None = None,
    session: Session | None = None,
    forced: bool = False,
) -> int | None:
    """Point ``alias`` (e.g. ``production``) at ``name``'s ``version``; return the version it left.

    Every move is recorded with who, when, from, to and ``reason`` (``keel models history``).
    This is the registry's own move, without the promotion gate: ``keel.set_model_alias``
    (keel.checks.gate) checks required checks first.
    """
    from keel.store import registry_repo
    from keel.tracking.context import current_user

    return registry_repo.set_alias(
        session_or_default(session).db,
        check_model_name(name),
        check_alias(alias),
        check_version(version),
        current_user(),
        _reason(reason),
        forced,
    )


def remove_alias(name: str, alias: str, *, reason: str | None = None, session: Session | None = None) -> int:
    from keel.store import registry_repo
    from keel.tracking.context import current_user

    return registry_repo.remove_alias(
        session_or_default(session).db,
        check_model_name(name),
        check_alias(alias),
        current_user(),
        _reason(reason),
    )


def _reason(reason: str | None) -> str | None:
    if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
        raise InvalidInput("A reason is text of at most 2,000 characters.")
    return reason or None


def alias_history(name: str, alias: str | None = None, *, session: Session | None = None) -> list[AliasEvent]:
    from keel.store import registry_repo

    with session_or_default(session).db.read() as conn:
        return registry_repo.alias_history(conn, check_model_name(name), alias)


def set_tags(
    name: str,
    version: int | str | None,
    tags: Mapping[str, Any],
    remove: list[str] | None = None,
    *,
    session: Session | None = None,
) -> None:
    """Set (and remove) tags on a model, or on one version when ``version`` is given."""
    from keel.core.keys import check_key, tag_value
    from keel.store import registry_repo

    values = {check_key("tag", k): tag_value(k, v) for k, v in tags.items()}
    registry_repo.set_tags(
        session_or_default(session).db,
        check_model_name(name),
        None if version is None else check_version(version),
        values,
        list(remove or []),
    )


def delete_version(name: str, version: int | str, *, session: Session | None = None) -> ModelVersion:
    """Delete a version (refused while an alias points at it). Its package stays in the object
    store until ``keel gc`` finds nothing else using it."""
    from keel.store import registry_repo

    return registry_repo.delete_version(
        session_or_default(session).db, check_model_name(name), check_version(version)
    )


def lineage(ref: str | ModelRef, *, session: Session | None = None) -> dict[str, Any]:
    """Where a model version came from: its run (params, metrics, git commit, environment), the
    dataset versions the run read, and the runs that produced those datasets, recursively."""
    from keel.store.run_query import dataset_producers, folder_producers
    from keel.tracking.queries import get_run

    active = session_or_default(session)
    version, package = package_of(ref, session=active)
    result: dict[str, Any] = {
        "model": version.to_dict(),
        "signature": package.manifest.get("signature"),
        "requirements": package.manifest.get("requirements"),
        "run": None,
        "upstream": [],
    }
    if version.run_id is None:
        return result
    try:
        run = get_run(version.run_id, session=active)
    except NotFound:
        result["run"] = {"id": version.run_id, "missing": True}
        return result
    result["run"] = _run_summary(run)
    seen = {run.id}
    frontier = [run]
    upstream: list[dict[str, Any]] = []
    while frontier and len(seen) < 200:
        current = frontier.pop(0)
        oids = [d.oid for d in current.inputs]
        if not oids:
            continue
        with active.db.read() as conn:
            producers = dataset_producers(conn, oids)
            # an input inside a folder another run wrote (data/processed/train.csv of data/processed)
            for dataset in current.inputs:
                if dataset.oid not in producers:
                    for run_id, folder, folder_oid in folder_producers(conn, dataset.path):
                        if _holds(active, folder_oid, dataset.path[len(folder) + 1 :], dataset.oid):
                            producers.setdefault(dataset.oid, []).append(run_id)
        for oid, run_ids in producers.items():
            # the run that made it first; later ones restored or remade the same content
            for producer_id in run_ids[:1]:
                if producer_id in seen:
                    continue
                seen.add(producer_id)
                producer = get_run(producer_id, session=active)
                summary = _run_summary(producer)
                summary["produced"] = [d.to_dict() for d in producer.outputs if d.oid == oid] or [
                    d.to_dict() for d in current.inputs if d.oid == oid
                ]
                summary["for_run"] = current.id
                upstream.append(summary)
                frontier.append(producer)
    result["upstream"] = upstream
    return result


def _holds(session: Session, tree_oid: str, relative: str, oid: str) -> bool:
    """Whether the folder version ``tree_oid`` holds ``relative`` with content ``oid``."""
    from keel.core.errors import KeelError
    from keel.objects.trees import Trees

    trees = Trees(session.objects)
    current = tree_oid
    parts = relative.split("/")
    try:
        for depth, part in enumerate(parts):
            entry = next((e for e in trees.get(current) if e.name == part), None)
            if entry is None:
                return False
            if depth == len(parts) - 1:
                return entry.oid == oid
            current = entry.oid
    except (KeelError, OSError):
        return False  # the folder's trees are not here: no claim
    return False


def _run_summary(run: Any) -> dict[str, Any]:
    context = run.context
    git = context.get("git") or {}
    return {
        "id": run.id,
        "name": run.name,
        "kind": run.kind,
        "experiment": run.experiment,
        "status": run.status,
        "start_time": run.start_time.isoformat(),
        "params": dict(run.params),
        "metrics": {k: v for k, v in run.metrics.items()},
        "inputs": [d.to_dict() for d in run.inputs],
        "outputs": [d.to_dict() for d in run.outputs],
        "git": {"commit": git.get("commit"), "branch": git.get("branch"), "dirty": git.get("dirty")},
        "environment": {
            "python": (context.get("python") or {}).get("version"),
            "platform": context.get("platform"),
            "packages": (context.get("packages") or {}).get("oid"),
        },
        "command": context.get("command"),
    }
