"""``keel init``: a project layout in the cookiecutter-data-science tradition."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from keel.core.errors import Conflict, InvalidInput
from keel.core.workspace import PROJECT_FILE, PROJECT_FORMAT, STATE_DIR

FOLDERS = (
    "data/raw",
    "data/interim",
    "data/processed",
    "src",
    "configs",
    "models",
    "reports",
    "tests",
)
GITIGNORE_ENTRIES = (f"/{STATE_DIR}/",)

_KEEL_YAML = """\
# Keel project file (reference: Keel's docs/configuration.md, or run `keel settings`).
version: {version}
project: {name}

# Settings for everyone working on this project (each can be overridden per machine with
# its KEEL_<NAME> environment variable, e.g. KEEL_DB_URL). `keel settings` lists them all.
settings:
  experiment: default
"""

_PARAMS_YAML = """\
# Parameters of this project's code. Scripts read them (yaml.safe_load) and log them with
# keel.log_params; `keel runs compare` shows how they differ between runs.
{}
"""


@dataclass
class InitResult:
    root: Path
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def init_project(target: Path, force: bool = False, name: str | None = None) -> InitResult:
    """Create (or with ``force``, re-create the files of) a Keel project in ``target``."""
    root = target.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{target} is a file; choose a folder for the project.")
    if (root / PROJECT_FILE).exists() and not force:
        raise Conflict(
            f"{root} is already a Keel project ({PROJECT_FILE} exists); "
            "use --force to rewrite keel.yaml and params.yaml (data, code and runs are kept)."
        )
    project = name or root.name or "project"
    if any(c in project for c in "\n:#{}[]'\"") or not project.strip():
        raise InvalidInput(
            f"Project name {project!r} is not usable; pass --name with letters, digits, - or _."
        )
    result = InitResult(root)
    root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.W_OK):
        raise InvalidInput(f"{root} is not writable; choose another folder.")
    for folder in (*FOLDERS, STATE_DIR):
        path = root / folder
        if not path.exists():
            path.mkdir(parents=True)
            result.created.append(folder + "/")
            if folder != STATE_DIR:
                (path / ".gitkeep").touch()
    (root / STATE_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
    _write(root, PROJECT_FILE, _KEEL_YAML.format(version=PROJECT_FORMAT, name=project), result)
    _write(root, "params.yaml", _PARAMS_YAML, result, keep_existing=not force)
    _ensure_gitignore(root, result)
    _create_store(root, result)
    return result


def _create_store(root: Path, result: InitResult) -> None:
    """Create the project's stat cache and local metadata store now (as ``git init`` creates
    ``.git``), so that the first ``keel run`` or ``keel track`` only opens them. A store named by
    ``KEEL_DB_URL`` (a team's PostgreSQL) is left to ``keel db upgrade`` or its first use."""
    from keel.core.workspace import open_workspace
    from keel.objects.stat_cache import StatCache
    from keel.store.database import Database
    from keel.store.migrate import ensure_schema

    workspace = open_workspace(root)
    stat_cache = StatCache(workspace.state_dir / "state.db")
    stat_cache.create()
    stat_cache.close()
    if workspace.settings.db_url or (workspace.state_dir / "keel.db").exists():
        return
    database = Database(workspace.db_url, workspace.settings)
    try:
        ensure_schema(database, upgrade=True)
    finally:
        database.dispose()
    result.created.append(f"{STATE_DIR}/keel.db")


def _write(root: Path, name: str, text: str, result: InitResult, keep_existing: bool = False) -> None:
    path = root / name
    existed = path.exists()
    if existed and keep_existing:
        return
    tmp = path.with_name(f".{name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    (result.updated if existed else result.created).append(name)


def _ensure_gitignore(root: Path, result: InitResult) -> None:
    path = root / ".gitignore"
    existing = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [entry for entry in GITIGNORE_ENTRIES if entry not in existing]
    if not missing:
        return
    lines = [*existing]
    if lines and lines[-1].strip():
        lines.append("")
    lines.append("# Keel local state (metadata store, object cache)")
    lines.extend(missing)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (result.updated if existing else result.created).append(".gitignore")
