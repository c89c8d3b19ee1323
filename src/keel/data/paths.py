"""Turning what users type into tracked paths, and refusing the ones Keel must not track."""

from __future__ import annotations

import os
from pathlib import Path

from keel.core.errors import InvalidInput
from keel.core.workspace import PROJECT_FILE, STATE_DIR

_FORBIDDEN = {PROJECT_FILE, "keel.lock", "params.yaml", ".git", ".gitignore", STATE_DIR}


def project_path(root: Path, user_path: str | Path, cwd: Path | None = None) -> str:
    """``user_path`` (absolute, or relative to ``cwd``) as a path relative to the project root.

    Symbolic links in the path itself are not resolved: the path is what is tracked.
    """
    raw = Path(user_path)
    absolute = raw if raw.is_absolute() else (cwd or Path.cwd()) / raw
    normalized = Path(os.path.normpath(absolute))
    try:
        rel = normalized.relative_to(root)
    except ValueError:
        raise InvalidInput(f"{user_path} is outside the project ({root}); track data inside it.") from None
    text = rel.as_posix()
    if text in ("", "."):
        raise InvalidInput(
            "The project root itself cannot be tracked; track folders inside it, e.g. data/raw."
        )
    first = text.split("/", 1)[0]
    if first in _FORBIDDEN or text in _FORBIDDEN:
        raise InvalidInput(f"{text} is Keel's or git's own file or folder and cannot be tracked.")
    return text


def overlapping(path: str, tracked: list[str]) -> str | None:
    """A tracked path that contains ``path`` or lies inside it (other than ``path``)."""
    for other in tracked:
        if other == path:
            continue
        if path.startswith(other + "/") or other.startswith(path + "/"):
            return other
    return None
