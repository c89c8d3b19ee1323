"""``keel data log PATH``: the versions of a tracked path across git history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.core.errors import NotFound
from keel.data.context import DataContext
from keel.data.git_revs import lock_at, lock_history
from keel.data.paths import project_path


@dataclass
class Version:
    commit: str
    date: str
    subject: str
    oid: str | None  # None: the path was not tracked in that commit
    size: int | None
    files: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def data_log(ctx: DataContext, user_path: str, cwd: Path | None = None) -> list[Version]:
    """Newest first: each commit where the path's recorded version changed."""
    rel = project_path(ctx.root, user_path, cwd)
    commits = lock_history(ctx.root)
    versions: list[Version] = []
    previous: str | bool | None = False  # False: nothing seen yet
    for commit, date, subject in reversed(commits):
        tracked = lock_at(ctx.root, commit).data.get(rel)
        oid = tracked.oid if tracked else None
        if oid != previous:
            versions.append(
                Version(
                    commit,
                    date,
                    subject,
                    oid,
                    tracked.size if tracked else None,
                    tracked.files if tracked else None,
                )
            )
            previous = oid
    versions = [v for v in versions if v.oid is not None or versions.index(v) > 0]
    if not versions:
        raise NotFound(
            f"{rel} was never recorded in a committed keel.lock; `keel data add {rel}` then commit keel.lock."
        )
    return list(reversed(versions))
