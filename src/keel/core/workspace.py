"""A Keel project on disk: its root, its ``keel.yaml`` and its resolved settings.

The root is the nearest folder, from the current one upwards, that holds ``keel.yaml`` —
the way git finds ``.git`` — unless ``KEEL_WORKSPACE`` names it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from keel.core.errors import ConfigError, NotFound
from keel.core.settings import Settings
from keel.core.yaml_file import load_yaml_mapping

PROJECT_FILE = "keel.yaml"
STATE_DIR = ".keel"
PROJECT_FORMAT = 1
#: Top-level sections of keel.yaml that Keel knows; anything else is a typo worth reporting.
KNOWN_SECTIONS = ("version", "project", "settings", "remotes", "stages", "monitors")


class Workspace(NamedTuple):
    """A project root with its settings; pass it explicitly to whatever needs it."""

    root: Path
    settings: Settings
    config: Mapping[str, Any] = MappingProxyType({})

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def objects_dir(self) -> Path:
        path = Path(self.settings.objects_dir).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def predictions_dir(self) -> Path:
        path = Path(self.settings.predictions_dir).expanduser()
        return path if path.is_absolute() else self.root / path

    @property
    def db_url(self) -> str:
        url: str = self.settings.db_url
        return url or f"sqlite:///{self.state_dir / 'keel.db'}"

    @property
    def project_name(self) -> str:
        name = self.config.get("project")
        return str(name) if name else self.root.name


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``keel.yaml``."""
    current = start.resolve()
    for folder in (current, *current.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def open_workspace(start: Path | None = None, env: Mapping[str, str] | None = None) -> Workspace:
    """Find and load the workspace for ``start`` (default: the current folder)."""
    env = os.environ if env is None else env
    explicit = env.get("KEEL_WORKSPACE", "")
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not (root / PROJECT_FILE).is_file():
            raise NotFound(
                f"KEEL_WORKSPACE={explicit} has no {PROJECT_FILE}; "
                f"run `keel init {explicit}` or unset KEEL_WORKSPACE."
            )
    else:
        here = (start or Path.cwd()).resolve()
        found = find_root(here)
        if found is None:
            raise NotFound(
                f"No Keel project in {here} or any folder above it; "
                "run `keel init` to create one, or set KEEL_WORKSPACE."
            )
        root = found
    return load_workspace(root, env)


def load_workspace(root: Path, env: Mapping[str, str] | None = None) -> Workspace:
    """Load the workspace whose ``keel.yaml`` is in ``root``."""
    env = os.environ if env is None else env
    doc = load_yaml_mapping(root / PROJECT_FILE)
    for key in doc.data:
        if key not in KNOWN_SECTIONS:
            raise ConfigError(
                f"{doc.where(str(key))}: unknown section '{key}'; "
                f"known sections: {', '.join(KNOWN_SECTIONS)}."
            )
    version = doc.data.get("version", PROJECT_FORMAT)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"{doc.where('version')}: 'version' must be a whole number.")
    if version > PROJECT_FORMAT:
        raise ConfigError(
            f"{doc.where('version')}: project format {version} is newer than this Keel "
            f"understands ({PROJECT_FORMAT}); upgrade Keel."
        )
    file_settings = doc.data.get("settings") or {}
    if not isinstance(file_settings, dict):
        raise ConfigError(f"{doc.where('settings')}: 'settings' must be a mapping of name: value.")
    settings = Settings.resolve(env, file_settings, where=lambda name: doc.where("settings", name))
    return Workspace(root=root, settings=settings, config=doc.data)
