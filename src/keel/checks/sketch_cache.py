"""Reference sketches, computed once per dataset version and cached as objects.

A reference table is summarized by its :class:`~keel.checks.sketch.TableSketch`. Inside a
project the sketch is computed the first time, stored in the object store, and found again
through the ``profiles`` table by the table's content id and the sketch settings, so
``keel check compare`` and monitoring never reread a reference they have sketched before
(and share the sketch when they read the same table with the same settings).

The content id is the dataset version: as ``keel.lock`` recorded it at a git revision
(``--reference-rev v1``, ``data/train.csv@v1``), or the table's content now (a file or
folder inside the project, or the bytes of a file outside it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.errors import KeelError
from keel.core.hashing import hash_bytes, hash_file

if TYPE_CHECKING:
    from keel.checks.sketch import TableSketch
    from keel.core.workspace import Workspace
    from keel.tracking.session import Session

#: Bump when the sketch's content changes meaning: cached sketches are then recomputed.
SKETCH_VERSION = "sketch-2"


def cached_sketch(
    session: Session,
    dataset_oid: str,
    settings: str,
    compute: Callable[[], tuple[TableSketch, dict[str, Any]]],
) -> tuple[TableSketch, dict[str, Any]]:
    """The sketch of a dataset version for ``settings`` (computed by ``compute`` once), and
    the extra facts stored with it."""
    from keel.checks.sketch import TableSketch
    from keel.store.monitor_repo import cached_profile, remember_profile

    key = hash_bytes(f"{SKETCH_VERSION}:{settings}".encode())
    try:
        with session.db.read() as conn:
            oid = cached_profile(conn, dataset_oid, key)
        if oid is not None and session.objects.exists(oid):
            body = json.loads(session.objects.read_bytes(oid))
            return TableSketch.from_dict(body["sketch"]), dict(body.get("extra") or {})
    except KeelError:
        oid = None  # a store that cannot be read (unreachable, read-only, an old schema): no cache
    sketch, extra = compute()
    payload = json.dumps({"sketch": sketch.to_dict(), "extra": extra}, sort_keys=True).encode()
    try:
        remember_profile(session.db, dataset_oid, key, session.objects.put_bytes(payload), sketch.rows)
    except (KeelError, OSError):
        pass  # the next evaluation sketches it again
    return sketch, extra


def table_format(path: str | Path) -> str:
    """What a table's file name says about how it is read (its suffixes, lower-cased): the
    same bytes named ``.csv`` and ``.tsv`` read differently, so they are sketched apart."""
    return "".join(Path(path).suffixes).lower()


def kinds_key(kinds: Mapping[str, str] | None) -> str:
    """The column kinds asked for, as part of a settings key."""
    return json.dumps(sorted((kinds or {}).items()))


def content_id(workspace: Workspace, path: Path, rev: str | None = None) -> str | None:
    """The content id of the table at ``path`` (as ``keel.lock`` recorded it at ``rev``): its
    dataset version inside the project, the hash of its bytes for a file outside it; None for
    a folder outside the project, or a path that does not exist (reading it says so)."""
    from keel.checks.data_api import data_version

    if rev is not None:
        from keel.data.api import dataset

        return dataset(path, rev).oid
    if not path.exists():
        return None
    version = data_version(workspace, path)
    if version is not None:
        return version.oid
    return hash_file(path) if path.is_file() else None


def sketch_reference(
    path: Path,
    rev: str | None = None,
    *,
    oid: str | None = None,
    session: Session | None = None,
    kinds: Mapping[str, str] | None = None,
) -> TableSketch:
    """The sketch of the table at ``path`` (as ``keel.lock`` recorded it at ``rev``): from the
    cache by its content id ``oid`` when there is one and a ``session``, else read and sketched."""
    from keel.checks.data_api import read_data, read_data_at
    from keel.checks.sketch import sketch_table

    def compute() -> tuple[TableSketch, dict[str, Any]]:
        frame = read_data(path) if rev is None else read_data_at(path, rev)
        return sketch_table(frame, kinds=kinds), {}

    if oid is None or session is None:
        return compute()[0]
    return cached_sketch(session, oid, f"table:{table_format(path)}:{kinds_key(kinds)}", compute)[0]
