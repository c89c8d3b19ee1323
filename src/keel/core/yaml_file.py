"""Reading Keel's YAML files with line numbers, so errors can point at ``file:line``.

Files in a project's root folder (keel.yaml, params.yaml, keel.lock) are read by nearly every
command, so what they parse to is kept in ``.keel/parsed/<name>.json`` with the BLAKE3 hash of
the text it came from: while the text is the same, the JSON is read instead and PyYAML is
not even imported (about 12 ms of every command). A result JSON cannot hold exactly (dates,
NaN, non-text keys, anchors whose aliases share one object) is not kept; a file that does
not parse is never kept.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, NamedTuple

from keel.core.errors import ConfigError

#: Where parsed project files are kept, relative to the folder holding them.
PARSED_DIR = ".keel/parsed"
_FORMAT = b"keel-parsed-2\0"


class YamlSyntaxError(ValueError):
    """Text that is not valid YAML; ``line`` is 1-based, or None when unknown."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


class YamlDocument(NamedTuple):
    """A parsed YAML mapping plus the 1-based line of every key path in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]

    def where(self, *keys: str) -> str:
        """``file:line`` of a key path (or of its closest recorded parent)."""
        label = self.path.name
        for end in range(len(keys), 0, -1):
            line = self.lines.get(tuple(keys[:end]))
            if line is not None:
                return f"{label}:{line}"
        return label


def safe_load(text: str, cache_as: Path | None = None) -> Any:
    """``yaml.safe_load`` with libyaml's C parser when present (about 8x faster); invalid
    YAML raises :class:`YamlSyntaxError`. ``cache_as`` is the file the text was read from,
    whose parse is then kept (see the module)."""
    digest = _digest(text) if cache_as is not None else ""
    if cache_as is not None:
        kept = _kept(cache_as, digest)
        if kept is not None:
            return kept["data"]
    import yaml  # lazy: keeps `import keel` fast

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise _syntax_error(exc) from None
    if cache_as is not None:
        _keep(cache_as, digest, {"data": data})
    return data


def keep_parsed(path: Path, text: str, data: Any) -> None:
    """Keep ``data`` as the parse of ``text``, which the caller just wrote to ``path`` with
    :func:`safe_dump` of ``data`` (so parsing it again would give ``data``)."""
    _keep(path, _digest(text), {"data": data})


def _syntax_error(exc: Exception) -> YamlSyntaxError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return YamlSyntaxError(str(problem), mark.line + 1 if mark is not None else None)


def _digest(text: str) -> str:
    from keel.core.hashing import hash_bytes  # BLAKE3, which a command has loaded anyway

    # The format is part of the key: a Keel that keeps parses differently ignores these.
    return hash_bytes(_FORMAT + text.encode("utf-8", "surrogatepass"))


def _kept_file(path: Path) -> Path | None:
    """Where the parse of ``path`` is kept: only for files next to a ``.keel`` folder."""
    state = path.parent / ".keel"
    return path.parent / PARSED_DIR / f"{path.name}.json" if state.is_dir() else None


def _kept(path: Path, digest: str) -> dict[str, Any] | None:
    file = _kept_file(path)
    if file is None:
        return None
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) and body.get("text") == digest else None


def _keep(path: Path, digest: str, payload: dict[str, Any]) -> None:
    """Keep ``payload`` for ``path``'s text if JSON holds it exactly (best effort: a cache)."""
    file = _kept_file(path)
    if file is None:
        return
    body = {"text": digest, **payload}
    if _shares_parts(payload):
        return
    try:
        text = json.dumps(body, allow_nan=False)
        if json.loads(text) != body:  # e.g. integer keys, which JSON turns into text
            return
        file.parent.mkdir(exist_ok=True)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)
    except (OSError, TypeError, ValueError):
        return


def _shares_parts(value: Any) -> bool:
    """Whether a mapping or list appears twice in ``value`` (a YAML anchor and its aliases
    are one object, which JSON would turn into copies: changing one would no longer change
    the others)."""
    seen: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


def safe_dump(data: Any, **options: Any) -> str:
    """``yaml.safe_dump`` with libyaml's C emitter when present (about 4x faster)."""
    import yaml

    options.setdefault("sort_keys", False)
    text: str = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), **options)
    return text


def load_yaml_mapping(path: Path) -> YamlDocument:
    """Parse ``path`` as a YAML mapping; an empty file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}.") from None
    digest = _digest(text)
    kept = _kept(path, digest)
    if kept is not None and isinstance(kept.get("data"), dict) and isinstance(kept.get("lines"), list):
        lines = {tuple(keys): line for keys, line in kept["lines"]}
        return YamlDocument(path, kept["data"], lines)
    document = _parse_mapping(path, text)
    _keep(path, digest, {"data": document.data, "lines": [[list(k), n] for k, n in document.lines.items()]})
    return document


def _parse_mapping(path: Path, text: str) -> YamlDocument:
    import yaml  # lazy: keeps `import keel` fast

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        # One parse for both the data and the key lines (what yaml.compose and yaml.load do).
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = "fix the syntax"
        if mark is not None and "${" in (
            text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        ):
            hint = 'quote values holding ${…} inside [ ] or { }, e.g. outs: ["out-${item}.txt"]'
        raise ConfigError(f"{path.name}{line}: not valid YAML ({problem}); {hint}.") from None
    finally:
        loader.dispose()
    if data is None:
        return YamlDocument(path, {}, {})
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}:1: expected a mapping of keys to values at the top level.")
    lines: dict[tuple[str, ...], int] = {}
    _collect_lines(node, (), lines, path.name)
    return YamlDocument(path, data, lines)


def _collect_lines(
    node: Any, prefix: tuple[str, ...], out: dict[tuple[str, ...], int], path_name: str
) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            line = key_node.start_mark.line + 1
            if name in seen and key_node.tag != "tag:yaml.org,2002:merge":
                raise ConfigError(
                    f"{path_name}:{line}: key '{name}' appears twice (first on line {seen[name]}); keep one."
                )
            seen[name] = line
            key = (*prefix, name)
            out[key] = line
            _collect_lines(value_node, key, out, path_name)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = (*prefix, str(index))
            out[key] = item.start_mark.line + 1
            _collect_lines(item, key, out, path_name)
