"""Pipeline stages declared in keel.yaml: parsing, ``foreach``/``matrix`` expansion, checks.

::

    stages:
      prepare:
        cmd: python src/prepare.py
        deps: [data/raw, src/prepare.py]
        params: [prepare]                    # a section (or key, e.g. train.lr) of params.yaml
        outs: [data/processed]
      train:
        matrix: {model: [rf, gb], depth: [3, 5]}
        do:
          cmd: python src/train.py --model ${item.model} --depth ${item.depth}
          deps: [data/processed, src/train.py]
          params: [train, {configs/extra.yaml: [seed]}]
          outs: [models/${item.model}-${item.depth}]
          metrics: [reports/${item.model}-${item.depth}.json]
          env: {OMP_NUM_THREADS: "1"}
          checks:                            # run after the command; a failure stops the pipeline
            - {data: data/processed/train.csv, schema: checks/train.schema.yaml}
            - {model: wine, spec: checks/wine.model.yaml, severity: warn}

A stage's check files count as its dependencies (editing one re-runs the stage). Every
error names the file, the line and the key.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from keel.core.errors import ConfigError
from keel.core.workspace import PROJECT_FILE, Workspace
from keel.core.yaml_file import YamlDocument, load_yaml_mapping

if TYPE_CHECKING:
    from keel.checks.stage import StageCheck

STAGE_KEYS = ("cmd", "deps", "params", "outs", "metrics", "checks", "wdir", "env", "desc")
EXPANSION_KEYS = ("foreach", "matrix", "do")
PARAMS_FILE = "params.yaml"
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_VAR = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}")


class ParamRef(NamedTuple):
    """A key (``train.lr``), a section (``train``) or all (``None``) of a params file."""

    file: str
    key: str | None

    def __str__(self) -> str:
        prefix = "" if self.file == PARAMS_FILE else f"{self.file}:"
        return prefix + (self.key or "*")


class Stage(NamedTuple):
    name: str
    cmd: str
    wdir: str  # relative to the project root ("" for the root)
    deps: tuple[str, ...]  # project-relative
    params: tuple[ParamRef, ...]
    outs: tuple[str, ...]  # project-relative
    metrics: tuple[str, ...]  # project-relative; also outputs
    env: Mapping[str, str]
    desc: str = ""
    where: str = PROJECT_FILE  # file:line of the stage
    checks: tuple[StageCheck, ...] = ()

    @property
    def all_outs(self) -> tuple[str, ...]:
        return self.outs + tuple(m for m in self.metrics if m not in self.outs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cmd": self.cmd,
            "wdir": self.wdir,
            "deps": list(self.deps),
            "params": [str(p) for p in self.params],
            "outs": list(self.outs),
            "metrics": list(self.metrics),
            "env": dict(self.env),
            "desc": self.desc,
            "checks": [c.to_dict() for c in self.checks],
        }


class Pipeline:
    __slots__ = ("stages", "upstream")

    def __init__(self) -> None:
        self.stages: dict[str, Stage] = {}
        #: stage name -> names of the stages it depends on
        self.upstream: dict[str, set[str]] = {}


def _error(doc: YamlDocument, keys: tuple[str, ...], message: str) -> ConfigError:
    return ConfigError(f"{doc.where(*keys)}: {message}")


def _substitute(value: str, variables: Mapping[str, Any], doc: YamlDocument, keys: tuple[str, ...]) -> str:
    def replace(match: re.Match[str]) -> str:
        path = match.group(1).split(".")
        current: Any = variables
        for part in path:
            if isinstance(current, Mapping) and part in current:
                current = current[part]
            else:
                known = ", ".join(sorted(variables)) or "none"
                raise _error(doc, keys, f"unknown variable ${{{match.group(1)}}} (available here: {known})")
        if isinstance(current, Mapping | list):
            raise _error(doc, keys, f"${{{match.group(1)}}} is not a single value")
        return str(current)

    return _VAR.sub(replace, value)


def _strings(raw: Any, doc: YamlDocument, keys: tuple[str, ...], variables: Mapping[str, Any]) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise _error(
                doc,
                (*keys, str(index)),
                f"'{keys[-1]}' entries must be paths (strings), not {type(item).__name__}",
            )
        out.append(_substitute(str(item), variables, doc, (*keys, str(index))))
    return out


def _project_path(root: Path, wdir: str, raw: str, doc: YamlDocument, keys: tuple[str, ...]) -> str:
    import os

    path = Path(raw)
    absolute = path if path.is_absolute() else root / wdir / path
    normalized = Path(os.path.normpath(absolute))
    try:
        rel = normalized.relative_to(root).as_posix()
    except ValueError:
        raise _error(doc, keys, f"{raw} is outside the project") from None
    if rel in (".", ""):
        raise _error(doc, keys, "the project root itself cannot be a dependency or an output")
    if rel.split("/", 1)[0] in (".keel", ".git"):
        raise _error(doc, keys, f"{raw} is inside Keel's or git's own folder")
    return rel


def _checks(
    raw: Any, doc: YamlDocument, keys: tuple[str, ...], variables: Mapping[str, Any], root: Path, wdir: str
) -> list[StageCheck]:
    if raw is None:
        return []
    from keel.checks.stage import StageCheck  # only for stages that have checks

    if not isinstance(raw, list):
        raise _error(
            doc, keys, "'checks' is a list, e.g. - {data: data/clean.csv, schema: checks/clean.schema.yaml}"
        )
    found = []
    for index, item in enumerate(raw):
        where = (*keys, str(index))
        kind = "data" if isinstance(item, dict) and "data" in item else "model"
        spec_key = "schema" if kind == "data" else "spec"
        if (
            not isinstance(item, dict)
            or not isinstance(item.get(kind), str)
            or not isinstance(item.get(spec_key), str)
            or set(item) - {kind, spec_key, "severity"}
        ):
            raise _error(
                doc,
                where,
                "a check is {data: PATH, schema: FILE} or {model: NAME, spec: FILE}, with optional severity: warn",
            )
        severity = item.get("severity", "fail")
        if severity not in ("fail", "warn"):
            raise _error(doc, (*where, "severity"), f"severity {severity!r} is not fail or warn")
        spec = _project_path(
            root, wdir, _substitute(item[spec_key], variables, doc, where), doc, (*where, spec_key)
        )
        if not (root / spec).is_file():
            hint = "keel check infer DATA -o FILE" if kind == "data" else "docs/checks.md"
            raise _error(doc, (*where, spec_key), f"check file {spec} does not exist (create it: {hint})")
        target = _substitute(item[kind], variables, doc, where)
        if kind == "data":
            target = _project_path(root, wdir, target, doc, (*where, kind))
            from keel.checks.schema import load_schema

            load_schema(root / spec)  # a broken schema is an error now, not after the command ran
        else:
            from keel.checks.model_spec import load_model_spec
            from keel.core.models import MODEL_NAME

            if not MODEL_NAME.match(target):
                raise _error(
                    doc, (*where, "model"), f"model {target!r} is not a model name (letters, digits, _ . -)"
                )
            named = load_model_spec(root / spec).model
            if named is not None and named != target:
                raise _error(doc, (*where, "spec"), f"{spec} checks model {named!r}, not {target!r}")
        found.append(StageCheck(kind, target, spec, severity))
    return found


def _params(
    raw: Any, doc: YamlDocument, keys: tuple[str, ...], variables: Mapping[str, Any]
) -> list[ParamRef]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    refs: list[ParamRef] = []
    for index, item in enumerate(items):
        where = (*keys, str(index))
        if isinstance(item, str):
            refs.append(ParamRef(PARAMS_FILE, _substitute(item, variables, doc, where)))
        elif isinstance(item, dict):
            for file, file_keys in item.items():
                if file_keys is None or file_keys == []:
                    refs.append(ParamRef(str(file), None))
                elif isinstance(file_keys, list) and all(isinstance(k, str) for k in file_keys):
                    refs += [ParamRef(str(file), _substitute(k, variables, doc, where)) for k in file_keys]
                else:
                    raise _error(doc, where, f"keys of params file {file} must be a list of key names")
        else:
            raise _error(doc, where, "params entries are keys of params.yaml (train.lr) or {file: [keys]}")
    return refs


def _expansions(
    name: str, body: dict[str, Any], doc: YamlDocument
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(stage name, stage body, variables) for each stage a declaration stands for."""
    has_foreach, has_matrix = "foreach" in body, "matrix" in body
    if not has_foreach and not has_matrix:
        if "do" in body:
            raise _error(doc, ("stages", name, "do"), "'do' goes with 'foreach' or 'matrix'")
        return [(name, body, {})]
    if has_foreach and has_matrix:
        raise _error(doc, ("stages", name), "use either 'foreach' or 'matrix', not both")
    extra = set(body) - set(EXPANSION_KEYS)
    if extra:
        raise _error(
            doc, ("stages", name, sorted(extra)[0]), "with foreach/matrix, stage keys go under 'do:'"
        )
    template = body.get("do")
    if not isinstance(template, dict):
        raise _error(
            doc, ("stages", name), "foreach/matrix needs a 'do:' mapping with the stage (cmd, deps, …)"
        )
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if has_foreach:
        items = body["foreach"]
        if isinstance(items, list) and items:
            for index, item in enumerate(items):
                suffix = str(item) if isinstance(item, str | int | float) else str(index)
                found.append((f"{name}@{suffix}", template, {"item": item, "key": index}))
        elif isinstance(items, dict) and items:
            for key, item in items.items():
                found.append((f"{name}@{key}", template, {"item": item, "key": key}))
        else:
            raise _error(doc, ("stages", name, "foreach"), "foreach needs a non-empty list or mapping")
    else:
        matrix = body["matrix"]
        if (
            not isinstance(matrix, dict)
            or not matrix
            or not all(isinstance(v, list) and v for v in matrix.values())
        ):
            raise _error(
                doc,
                ("stages", name, "matrix"),
                "matrix maps names to non-empty lists, e.g. {lr: [0.1, 0.01]}",
            )
        names = list(matrix)
        for combo in itertools.product(*(matrix[n] for n in names)):
            item = dict(zip(names, combo, strict=True))
            suffix = "-".join(str(v) for v in combo)
            found.append((f"{name}@{suffix}", template, {"item": item}))
    return found


def parse_stages(workspace: Workspace, graph: bool = True) -> Pipeline:
    """The stages of keel.yaml, expanded and checked (raises ConfigError with file:line).
    ``graph=False`` skips the graph (dependencies present, no cycle): enough to read one
    stage's definition, e.g. to reproduce it in a checkout without the data."""
    doc = load_yaml_mapping(workspace.root / PROJECT_FILE)
    section = doc.data.get("stages") or {}
    if not isinstance(section, dict):
        raise _error(doc, ("stages",), "'stages' must be a mapping of stage name to stage")
    pipeline = Pipeline()
    root = workspace.root
    for name, body in section.items():
        name = str(name)
        if not _NAME.match(name):
            raise _error(
                doc, ("stages", name), f"stage name {name!r} may use letters, digits, '_', '.' and '-'"
            )
        if not isinstance(body, dict):
            raise _error(doc, ("stages", name), "a stage is a mapping with at least 'cmd'")
        for stage_name, stage_body, variables in _expansions(name, body, doc):
            keys_base = ("stages", name, "do") if stage_name != name else ("stages", name)
            unknown = [k for k in stage_body if k not in STAGE_KEYS]
            if unknown:
                raise _error(
                    doc,
                    (*keys_base, str(unknown[0])),
                    f"unknown key '{unknown[0]}'; stage keys: {', '.join(STAGE_KEYS)}",
                )
            if stage_name in pipeline.stages:
                raise _error(doc, keys_base, f"two stages are named {stage_name}")
            cmd_raw = stage_body.get("cmd")
            if isinstance(cmd_raw, list) and cmd_raw and all(isinstance(c, str) for c in cmd_raw):
                cmd_raw = " && ".join(cmd_raw)
            if not isinstance(cmd_raw, str) or not cmd_raw.strip():
                raise _error(
                    doc,
                    (*keys_base, "cmd") if "cmd" in stage_body else keys_base,
                    "each stage needs a 'cmd' (the command to run)",
                )
            wdir_raw = stage_body.get("wdir", ".")
            if not isinstance(wdir_raw, str):
                raise _error(doc, (*keys_base, "wdir"), "'wdir' is a folder path")
            wdir = _substitute(wdir_raw, variables, doc, (*keys_base, "wdir"))
            wdir_rel = "" if wdir in (".", "") else _project_path(root, "", wdir, doc, (*keys_base, "wdir"))
            env_raw = stage_body.get("env") or {}
            if not isinstance(env_raw, dict) or not all(
                isinstance(v, str | int | float | bool) for v in env_raw.values()
            ):
                raise _error(doc, (*keys_base, "env"), "'env' maps variable names to values")
            env = {
                str(k): _substitute(str(v), variables, doc, (*keys_base, "env", str(k)))
                for k, v in env_raw.items()
            }
            paths: dict[str, list[str]] = {}
            for key in ("deps", "outs", "metrics"):
                raw = _strings(stage_body.get(key), doc, (*keys_base, key), variables)
                paths[key] = [
                    _project_path(root, wdir_rel, p, doc, (*keys_base, key, str(i)))
                    for i, p in enumerate(raw)
                ]
            checks = _checks(stage_body.get("checks"), doc, (*keys_base, "checks"), variables, root, wdir_rel)
            for item in checks:  # editing a check file re-runs the stage
                if item.spec not in paths["deps"]:
                    paths["deps"].append(item.spec)
            stage = Stage(
                name=stage_name,
                cmd=_substitute(cmd_raw, variables, doc, (*keys_base, "cmd")),
                wdir=wdir_rel,
                deps=tuple(paths["deps"]),
                params=tuple(_params(stage_body.get("params"), doc, (*keys_base, "params"), variables)),
                outs=tuple(paths["outs"]),
                metrics=tuple(paths["metrics"]),
                env=env,
                desc=str(stage_body.get("desc") or ""),
                where=doc.where(*keys_base),
                checks=tuple(checks),
            )
            pipeline.stages[stage_name] = stage
    if graph:
        _check_graph(pipeline, root, doc)
    return pipeline


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _check_graph(pipeline: Pipeline, root: Path, doc: YamlDocument) -> None:
    producers: list[tuple[str, str]] = []  # (out, stage)
    for stage in pipeline.stages.values():
        for out in stage.all_outs:
            for other_out, other in producers:
                if _overlap(out, other_out):
                    raise ConfigError(
                        f"{stage.where}: stages {other} and {stage.name} both write {out}; give each output one stage."
                    )
            producers.append((out, stage.name))
        for dep in stage.deps:
            for out in stage.all_outs:
                if _overlap(dep, out):
                    raise ConfigError(
                        f"{stage.where}: stage {stage.name} lists {dep} as both a dependency and an output."
                    )
    for stage in pipeline.stages.values():
        upstream = set()
        for dep in stage.deps:
            makers = [name for out, name in producers if _overlap(dep, out)]
            if not makers and not (root / dep).exists():
                raise ConfigError(
                    f"{stage.where}: dependency {dep} of stage {stage.name} does not exist and no stage writes it."
                )
            upstream.update(makers)
        pipeline.upstream[stage.name] = upstream
    found = find_cycle(pipeline.upstream)
    if found:
        order = list(pipeline.stages)
        start = min(range(len(found)), key=lambda i: order.index(found[i]))
        cycle = found[start:] + found[:start]  # begin with the stage declared first
        first = pipeline.stages[cycle[0]]
        raise ConfigError(f"{first.where}: the stages form a cycle: {' → '.join([*cycle, cycle[0]])}.")


def find_cycle(upstream: Mapping[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for parent in sorted(upstream.get(node, ())):
            if state.get(parent) == 1:
                return path[path.index(parent) :]
            if parent not in state:
                found = visit(parent)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(upstream):
        if node not in state:
            found = visit(node)
            if found:
                return list(reversed(found))
    return None
