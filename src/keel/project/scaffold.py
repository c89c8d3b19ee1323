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
    new_state = not (root / STATE_DIR).exists()
    created_store = _create_stores(root)  # first: a store that cannot be made stops init here
    for folder in FOLDERS:
        path = root / folder
        if not path.exists():
            path.mkdir(parents=True)
            result.created.append(folder + "/")
            (path / ".gitkeep").touch()
    if new_state:
        result.created.append(STATE_DIR + "/")
    (root / STATE_DIR / ".gitignore").write_text("*\n", encoding="utf-8")
    _write(root, PROJECT_FILE, _KEEL_YAML.format(version=PROJECT_FORMAT, name=project), result)
    _write(root, "params.yaml", _PARAMS_YAML, result, keep_existing=not force)
    _ensure_gitignore(root, result)
    if created_store:
        result.created.append(f"{STATE_DIR}/keel.db")
    return result


def _create_stores(root: Path) -> bool:
    """Create the project's stat cache and local metadata store now (as ``git init`` creates
    ``.git``), so that the first ``keel run`` or ``keel track`` only opens them; True when
    the metadata store is new. A store named by ``KEEL_DB_URL`` (a team's PostgreSQL) is
    left to ``keel db upgrade`` or its first use."""
    from keel.core.settings import Settings
    from keel.objects.stat_cache import StatCache

    state = root / STATE_DIR
    state.mkdir(exist_ok=True)
    stat_cache = StatCache(state / "state.db")
    try:
        stat_cache.create()
    finally:
        stat_cache.close()
    settings = Settings.resolve(os.environ)
    store = state / "keel.db"
    if settings.db_url or store.exists():
        return False
    from keel.store.database import Database
    from keel.store.migrate import ensure_schema

    database = Database(f"sqlite:///{store}", settings)
    try:
        ensure_schema(database, upgrade=True)
    finally:
        database.dispose()
    return True


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
