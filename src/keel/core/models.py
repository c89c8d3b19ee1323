"""Model registry entities and model references (``name@alias``, ``name/3``, ``run:ID/path``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keel.core.errors import InvalidInput
from keel.core.keys import NAME_MAX

#: Model names: a letter or digit first, then letters, digits, ``_ - .`` (URL- and path-safe).
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
#: Aliases: a lowercase letter first, then lowercase letters, digits, ``_ -``; at most 64.
ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
#: Names an alias may not take: ``latest`` always means the newest version.
RESERVED_ALIASES = frozenset({"latest"})
#: The artifact path of a model package inside its run (``run:ID/model``) when none is given.
DEFAULT_PATH = "model"


def check_model_name(name: Any) -> str:
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        raise InvalidInput(
            f"Model name {name!r} is not allowed; use letters, digits, _ - . (up to 100, starting "
            "with a letter or digit), e.g. churn-classifier."
        )
    return name


def check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not ALIAS.match(alias) or alias in RESERVED_ALIASES:
        raise InvalidInput(
            f"Alias {alias!r} is not allowed; use a lowercase letter then lowercase letters, digits, "
            "_ or - (up to 64), e.g. production or staging; 'latest' is reserved."
        )
    return alias


def check_version(version: Any) -> int:
    try:
        number = int(version)
    except (TypeError, ValueError):
        number = 0
    if isinstance(version, bool) or number < 1 or str(version).strip() != str(number):
        raise InvalidInput(f"Model version {version!r} is not a version number; versions are 1, 2, 3…")
    return number


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: exactly one of ``version``, ``alias``, ``run_id`` set, or none (latest)."""

    name: str | None
    version: int | None = None
    alias: str | None = None
    run_id: str | None = None
    path: str | None = None

    def __str__(self) -> str:
        if self.run_id is not None:
            return f"run:{self.run_id}/{self.path}"
        if self.version is not None:
            return f"{self.name}/{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return f"{self.name}"


def parse_model_ref(text: Any) -> ModelRef:
    """``name`` (latest), ``name/3``, ``name@production``, ``name@latest`` or ``run:ID[/path]``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(
            f"Model reference {text!r} is empty; use NAME, NAME/VERSION, NAME@ALIAS or run:RUN_ID/PATH."
        )
    text = text.strip()
    if text.startswith("run:"):
        run_id, _, path = text[4:].partition("/")
        if not re.fullmatch(r"[0-9a-f]{4,32}", run_id):
            raise InvalidInput(
                f"{text!r}: {run_id!r} is not a run id; use run:RUN_ID/PATH, e.g. run:3f2a9c/model."
            )
        path = path.strip("/") or DEFAULT_PATH
        if len(path) > NAME_MAX:
            raise InvalidInput(f"{text!r}: the path is too long.")
        return ModelRef(None, run_id=run_id, path=path)
    if "@" in text:
        name, _, alias = text.partition("@")
        name = check_model_name(name)
        if alias == "latest":
            return ModelRef(name)
        return ModelRef(name, alias=check_alias(alias))
    if "/" in text:
        name, _, version = text.partition("/")
        return ModelRef(check_model_name(name), version=check_version(version))
    return ModelRef(check_model_name(text))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model: a package in the object store, made by a run."""

    name: str
    version: int
    package_oid: str
    size: int
    flavor: str
    run_id: str | None
    path: str
    created: datetime
    created_by: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "package": self.package_oid,
            "size": self.size,
            "flavor": self.flavor,
            "run_id": self.run_id,
            "path": self.path,
            "created": self.created.isoformat(),
            "created_by": self.created_by,
            "tags": dict(self.tags),
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class RegisteredModel:
    """A model name with its versions' summary."""

    name: str
    created: datetime
    description: str | None
    tags: dict[str, str]
    latest_version: int | None
    versions: int
    aliases: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created": self.created.isoformat(),
            "description": self.description,
            "tags": dict(self.tags),
            "latest_version": self.latest_version,
            "versions": self.versions,
            "aliases": dict(self.aliases),
        }


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias: who moved it, when, from which version to which, and why."""

    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    actor: str | None
    at: datetime
    reason: str | None
    #: moved with --force past failed or missing required checks
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "reason": self.reason,
            "forced": self.forced,
        }
