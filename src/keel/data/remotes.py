"""``keel remote add|list|remove``: remotes live in keel.yaml, so a clone knows them.

::

    remotes:
      origin:
        url: s3://team-bucket/keel
        default: true
        options:                      # passed to fsspec; credentials come from the environment
          endpoint_url: http://127.0.0.1:9000

keel.yaml is edited in place with ruamel.yaml, which keeps the user's comments and layout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import ConfigError, Conflict, InvalidInput, NotFound
from keel.core.workspace import PROJECT_FILE, Workspace
from keel.objects.remote import Remote, open_remote

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    url: str
    default: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "default": self.default, "options": self.options}


def list_remotes(workspace: Workspace) -> list[RemoteConfig]:
    section = workspace.config.get("remotes") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{PROJECT_FILE}: 'remotes' must be a mapping of name to {{url: …}}.")
    found = []
    for name, body in section.items():
        if isinstance(body, str):
            body = {"url": body}
        if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"]:
            raise ConfigError(f"{PROJECT_FILE}: remote {name!r} needs a url, e.g. url: s3://bucket/keel.")
        unknown = set(body) - {"url", "default", "options"}
        if unknown:
            raise ConfigError(
                f"{PROJECT_FILE}: remote {name!r} has unknown key(s) {', '.join(sorted(unknown))}; "
                "known: url, default, options."
            )
        options = body.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{PROJECT_FILE}: options of remote {name!r} must be a mapping.")
        found.append(RemoteConfig(str(name), body["url"], bool(body.get("default", False)), dict(options)))
    return found


def choose_remote(workspace: Workspace, name: str | None = None) -> RemoteConfig:
    remotes = list_remotes(workspace)
    if name is not None:
        for remote in remotes:
            if remote.name == name:
                return remote
        known = ", ".join(r.name for r in remotes) or "none"
        raise NotFound(
            f"No remote named {name!r} (remotes: {known}); add it with `keel remote add {name} URL`."
        )
    if not remotes:
        raise NotFound(
            "No remote configured; add one with `keel remote add origin URL` (a folder or s3://bucket/path)."
        )
    defaults = [r for r in remotes if r.default]
    if defaults:
        return defaults[0]
    if len(remotes) == 1:
        return remotes[0]
    raise InvalidInput(
        f"Several remotes ({', '.join(r.name for r in remotes)}) and none is the default; "
        "pass --remote NAME or mark one with `keel remote add NAME URL --default`."
    )


def connect(workspace: Workspace, name: str | None = None) -> Remote:
    config = choose_remote(workspace, name)
    options = dict(config.options)
    # A folder remote may share objects with the local store by hard link (opt-in: fast, but
    # then a copy damaged in one place is damaged in both, and pull --force cannot repair it).
    link = bool(options.pop("link", False))
    return open_remote(config.name, config.url, options, workspace.root, link)


def _load(root: Path) -> tuple[Any, Any]:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    document = yaml.load((root / PROJECT_FILE).read_text(encoding="utf-8")) or {}
    return yaml, document


def _save(root: Path, yaml: Any, document: Any) -> None:
    import io

    buffer = io.StringIO()
    yaml.dump(document, buffer)
    path = root / PROJECT_FILE
    tmp = path.with_name(f".{PROJECT_FILE}.{os.getpid()}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def add_remote(
    workspace: Workspace,
    name: str,
    url: str,
    default: bool = False,
    force: bool = False,
    options: dict[str, Any] | None = None,
) -> RemoteConfig:
    if not _NAME.match(name):
        raise InvalidInput(f"Remote name {name!r} is not allowed; use letters, digits, '.', '_' or '-'.")
    if not url.strip():
        raise InvalidInput("The remote URL is empty; give a folder or a URL such as s3://bucket/keel.")
    if "://" in url:
        scheme = url.split("://", 1)[0]
        if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
            raise InvalidInput(
                f"{url!r} is not a URL Keel can use; e.g. s3://bucket/keel or /mnt/shared/keel."
            )
    existing = {r.name: r for r in list_remotes(workspace)}
    if name in existing and not force:
        raise Conflict(f"Remote {name!r} exists ({existing[name].url}); pass --force to replace it.")
    from ruamel.yaml.comments import CommentedMap

    yaml, document = _load(workspace.root)
    section = document.get("remotes")
    if section is None:
        section = CommentedMap()
        document["remotes"] = section
    make_default = default or not [r for r in existing.values() if r.name != name]
    if make_default:
        for other in section:
            if other != name and isinstance(section[other], dict):
                section[other].pop("default", None)
    body = CommentedMap()
    body["url"] = url
    if make_default:
        body["default"] = True
    secret = {
        k for k in (options or {}) if any(w in k.lower() for w in ("secret", "password", "token", "key_id"))
    }
    if secret:
        raise InvalidInput(
            f"Option {sorted(secret)[0]!r} looks like a credential; keel.yaml is committed to git, so pass "
            "credentials through the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE)."
        )
    previous = existing.get(name)
    merged = {**(previous.options if previous else {}), **(options or {})}
    if merged:
        body["options"] = CommentedMap(merged)
    section[name] = body
    _save(workspace.root, yaml, document)
    return RemoteConfig(name, url, make_default, merged)


def remove_remote(workspace: Workspace, name: str) -> None:
    if name not in {r.name for r in list_remotes(workspace)}:
        raise NotFound(f"No remote named {name!r}; `keel remote list` shows the remotes.")
    yaml, document = _load(workspace.root)
    del document["remotes"][name]
    if not document["remotes"]:
        del document["remotes"]
    _save(workspace.root, yaml, document)
