"""``keel.lock``: the versions of tracked data (committed to git, like a lock file).

::

    version: 1
    data:
      data/raw:
        oid: 3fa9…        # tree id for a folder, object id for a file
        kind: dir
        size: 81920000
        files: 20000

Updates are read-modify-write under a file lock (``.keel/lock.lock``) and replace the file
atomically, so two commands updating it at once both land and a reader never sees half a
file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from keel.core.errors import ConfigError
from keel.core.yaml_file import YamlSyntaxError, keep_parsed, safe_dump, safe_load

LOCK_FILE = "keel.lock"
LOCK_FORMAT = 1


class TrackedPath(NamedTuple):
    path: str  # relative to the project root, "/" separators
    oid: str
    kind: str  # "file" or "dir"
    size: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        return {"oid": self.oid, "kind": self.kind, "size": self.size, "files": self.files}

    @classmethod
    def from_entry(cls, path: Any, entry: Any) -> TrackedPath:
        """From a keel.lock entry ``{oid, kind, size, files}``; KeyError/TypeError/ValueError
        when it is incomplete."""
        return cls(
            str(path), str(entry["oid"]), str(entry["kind"]), int(entry["size"]), int(entry.get("files", 1))
        )


class LockFile:
    __slots__ = ("data", "extra")

    def __init__(self, data: dict[str, TrackedPath], extra: dict[str, Any]) -> None:
        self.data = data
        self.extra = extra  # other sections (pipeline stages) kept as they are

    def versions(self) -> dict[str, TrackedPath]:
        """Every recorded version: tracked data and pipeline stage outputs, by path."""
        found = dict(self.data)
        stages = self.extra.get("stages")
        if isinstance(stages, dict):
            for state in stages.values():
                outs = state.get("outs") if isinstance(state, dict) else None
                for path, entry in (outs or {}).items():
                    try:
                        found[str(path)] = TrackedPath.from_entry(path, entry)
                    except (KeyError, TypeError, ValueError):
                        continue
        return found

    def body(self) -> dict[str, Any]:
        """What the file holds, as its YAML parses to."""
        body: dict[str, Any] = {"version": LOCK_FORMAT}
        body["data"] = {path: self.data[path].to_dict() for path in sorted(self.data)}
        body.update(self.extra)
        return body

    def dump(self, body: dict[str, Any] | None = None) -> str:
        header = "# Written by Keel: the versions of tracked data. Commit it with your code.\n"
        return header + safe_dump(self.body() if body is None else body, default_flow_style=False)


def parse_lock(text: str, label: str = LOCK_FILE, source: Path | None = None) -> LockFile:
    """The lock file in ``text``; ``source`` is the file it was read from (its parse is
    then kept while the text is unchanged)."""
    try:
        body = safe_load(text, cache_as=source) or {}
    except YamlSyntaxError as exc:
        where = f"{label}:{exc.line}" if exc.line is not None else label
        raise ConfigError(
            f"{where}: not valid YAML; restore it from git (git checkout {LOCK_FILE})."
        ) from None
    if not isinstance(body, dict):
        raise ConfigError(f"{label}: expected a mapping; restore it from git.")
    version = body.pop("version", LOCK_FORMAT)
    if not isinstance(version, int) or version > LOCK_FORMAT:
        raise ConfigError(
            f"{label}: lock format {version!r} is newer than this Keel understands; upgrade Keel."
        )
    entries = body.pop("data", None) or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{label}: 'data' must be a mapping of path to version.")
    data = {}
    for path, entry in entries.items():
        try:
            data[str(path)] = TrackedPath.from_entry(path, entry)
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{label}: the entry for {path!r} is incomplete; restore it from git."
            ) from None
    return LockFile(data, body)


def read_lock(root: Path) -> LockFile:
    path = root / LOCK_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LockFile({}, {})
    return parse_lock(text, source=path)


@contextmanager
def update_lock(root: Path) -> Iterator[LockFile]:
    """Read keel.lock under an exclusive lock; write it back (atomically) if no error."""
    state = root / ".keel"
    state.mkdir(exist_ok=True)
    with open(state / "lock.lock", "a") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        try:
            lock = read_lock(root)
            yield lock
            tmp = root / f".{LOCK_FILE}.{os.getpid()}.tmp"
            body = lock.body()
            text = lock.dump(body)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, root / LOCK_FILE)
            keep_parsed(root / LOCK_FILE, text, body)  # the next read needs no YAML
        finally:
            fcntl.flock(guard, fcntl.LOCK_UN)
