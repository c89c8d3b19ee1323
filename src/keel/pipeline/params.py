"""Reading the parameter values a stage declares (params.yaml or other YAML/JSON files)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from keel.core.errors import ConfigError
from keel.core.yaml_file import YamlSyntaxError, safe_load
from keel.pipeline.spec import Stage


def _load(root: Path, name: str, cache: dict[str, Any]) -> Any:
    if name in cache:
        return cache[name]
    path = root / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Params file {name} does not exist; create it or fix the stage's params."
        ) from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{name}: not valid JSON ({exc}).") from None
    else:
        try:
            data = safe_load(text, cache_as=path)
        except YamlSyntaxError as exc:
            line = f":{exc.line}" if exc.line is not None else ""
            raise ConfigError(f"{name}{line}: not valid YAML.") from None
    cache[name] = data if data is not None else {}
    return cache[name]


def lookup(data: Any, key: str) -> Any:
    current = data
    for part in key.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise KeyError(key)
    return current


def stage_params(
    root: Path, stage: Stage, overrides: Mapping[str, Any] | None = None, cache: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{"train": {...}, "configs/x.yaml:seed": 3, …}`` — the values a stage reads, with
    sweep ``overrides`` (``{"train.lr": 0.1}``, params.yaml keys) applied."""
    cache = {} if cache is None else cache
    values: dict[str, Any] = {}
    for ref in stage.params:
        data = (
            apply_overrides(_load(root, ref.file, cache), overrides)
            if ref.file == "params.yaml"
            else _load(root, ref.file, cache)
        )
        label = str(ref)
        if ref.key is None:
            values[label] = data
            continue
        try:
            values[label] = lookup(data, ref.key)
        except KeyError:
            raise ConfigError(
                f"{stage.where}: stage {stage.name} reads {ref.key} from {ref.file}, which has no such key."
            ) from None
    return values


def apply_overrides(data: Any, overrides: Mapping[str, Any] | None) -> Any:
    """A copy of params ``data`` with dotted-key ``overrides`` set."""
    if not overrides:
        return data
    import copy

    result = copy.deepcopy(data) if isinstance(data, dict) else {}
    for key, value in overrides.items():
        parts = key.split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return result


def flat_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Param values as flat run params: sections become dotted keys (``train.lr``)."""
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        else:
            out[prefix] = value

    for label, value in values.items():
        walk("" if label == "*" else label, value)
    return out


def read_params(file: str = "params.yaml", start: Path | None = None) -> Any:
    """``keel.params()``: a params file of the project (``params.yaml`` by default), with
    the values a sweep point overrides applied. Scripts that read their params this way
    see exactly what `keel run --set` asked for."""
    import os

    from keel.core.workspace import open_workspace

    workspace = open_workspace(start)
    data = _load(workspace.root, file, {})
    raw = os.environ.get("KEEL_PARAMS_OVERRIDES")
    if raw and file == "params.yaml":
        try:
            overrides = json.loads(raw)
        except ValueError:
            raise ConfigError(
                "KEEL_PARAMS_OVERRIDES is not JSON; it is set by `keel run --set`, not by hand."
            ) from None
        data = apply_overrides(data, overrides)
    return data
