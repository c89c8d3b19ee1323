"""keel.lock as it was at a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from keel.core.errors import InvalidInput, NotFound
from keel.data.lockfile import LOCK_FILE, LockFile, parse_lock


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise InvalidInput("git is not installed; install it to use revisions.") from None


def require_repo(root: Path) -> None:
    if git(root, "rev-parse", "--git-dir").returncode != 0:
        raise InvalidInput(
            f"{root} is not in a git repository; revisions need git (git init, commit keel.lock)."
        )


def resolve_rev(root: Path, rev: str) -> str:
    require_repo(root)
    if rev.startswith("-"):
        raise InvalidInput(f"{rev!r} is not a git revision.")
    found = git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise NotFound(f"No git revision {rev!r} here; check `git log` or `git branch`.")
    return found.stdout.strip()


def lock_at(root: Path, rev: str) -> LockFile:
    """keel.lock at ``rev`` (an empty lock when it did not exist there)."""
    commit = resolve_rev(root, rev)
    shown = git(root, "show", f"{commit}:./{LOCK_FILE}")
    if shown.returncode != 0:
        return LockFile({}, {})
    return parse_lock(shown.stdout, f"{LOCK_FILE}@{rev}")


def lock_history(root: Path) -> list[tuple[str, str, str]]:
    """(commit, date, subject) of each commit that changed keel.lock, newest first."""
    require_repo(root)
    log = git(root, "log", "--format=%H%x09%ad%x09%s", "--date=iso-strict", "--", LOCK_FILE)
    if log.returncode != 0:
        return []
    rows = []
    for line in log.stdout.splitlines():
        commit, date, subject = ([*line.split("\t", 2), "", ""])[:3]
        rows.append((commit, date, subject))
    return rows
