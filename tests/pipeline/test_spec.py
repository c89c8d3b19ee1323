"""keel.yaml stages: expansion, and errors that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.errors import ConfigError
from keel.core.workspace import load_workspace
from keel.pipeline.graph import dot, mermaid, select, topological
from keel.pipeline.spec import parse_stages


def _project(tmp_path: Path, stages: str, files: tuple[str, ...] = ("a.txt",)) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "keel.yaml").write_text("version: 1\n" + stages)
    for name in files:
        (root / name).write_text("x")
    return root


def _parse(root: Path) -> object:
    return parse_stages(load_workspace(root, env={}))


def test_foreach_matrix_and_substitution(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        """stages:
  make:
    foreach: [a, b]
    do:
      cmd: echo ${item} > out-${item}.txt
      outs:
        - out-${item}.txt
  grid:
    matrix: {lr: [0.1, 0.2], depth: [3]}
    do:
      cmd: echo ${item.lr} ${item.depth}
      deps: [out-a.txt]
      outs:
        - grid-${item.lr}-${item.depth}.txt
      env: {DEPTH: "${item.depth}"}
  byname:
    foreach: {small: 1, big: 10}
    do:
      cmd: echo ${key} ${item}
      params: ["section.${key}", {other.yaml: [x]}]
""",
    )
    pipeline = _parse(root)
    stages = pipeline.stages  # type: ignore[attr-defined]
    assert list(stages) == ["make@a", "make@b", "grid@0.1-3", "grid@0.2-3", "byname@small", "byname@big"]
    assert stages["make@b"].cmd == "echo b > out-b.txt" and stages["make@b"].outs == ("out-b.txt",)
    assert stages["grid@0.2-3"].env == {"DEPTH": "3"}
    assert [str(p) for p in stages["byname@big"].params] == ["section.big", "other.yaml:x"]
    assert pipeline.upstream["grid@0.1-3"] == {"make@a"}  # type: ignore[attr-defined]
    assert select(pipeline, ["grid"]) == ["make@a", "grid@0.1-3", "grid@0.2-3"]  # type: ignore[arg-type]
    assert topological(pipeline)[0] == "make@a"  # type: ignore[arg-type]
    assert "s_make_a --> s_grid_0_1_3" in mermaid(pipeline)  # type: ignore[arg-type]
    assert '"make@a" -> "grid@0.1-3";' in dot(pipeline)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("stages", "fragment"),
    [
        ("stages:\n  s:\n    cmd: x\n    outz: [a]\n", "keel.yaml:5: unknown key 'outz'"),
        ("stages:\n  s:\n    deps: [a.txt]\n", "keel.yaml:3: each stage needs a 'cmd'"),
        ("stages:\n  s:\n    cmd: x\n    outs: [o-${item}]\n", "quote values holding ${…} inside [ ] or { }"),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [b.out]\n    outs: [a.out]\n  b:\n    cmd: y\n    deps: [a.out]\n    outs: [b.out]\n",
            "the stages form a cycle: a → b → a",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o/inner]\n",
            "stages a and b both write o/inner",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [o]\n    outs: [o]\n",
            "lists o as both a dependency and an output",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [missing.csv]\n",
            "keel.yaml:3: dependency missing.csv of stage a does not exist",
        ),
        ("stages:\n  a:\n    cmd: x\n    deps: [../outside]\n", "is outside the project"),
        ("stages:\n  a:\n    foreach: [1]\n    do:\n      cmd: echo ${itm}\n", "unknown variable ${itm}"),
        ("stages:\n  a:\n    foreach: []\n    do: {cmd: x}\n", "foreach needs a non-empty list"),
        ("stages:\n  a:\n    matrix: {x: 1}\n    do: {cmd: x}\n", "matrix maps names to non-empty lists"),
        ("stages:\n  a:\n    foreach: [1]\n    cmd: x\n    do: {cmd: x}\n", "stage keys go under 'do:'"),
        ("stages:\n  a b:\n    cmd: x\n", "stage name 'a b'"),
        ("stages:\n  a:\n    cmd: x\n    env: [1]\n", "'env' maps variable names to values"),
        ("stages:\n  a:\n    cmd: x\n    params: [3]\n", "params entries are keys of params.yaml"),
        ("stages: [a]\n", "'stages' must be a mapping"),
        ("stages:\n  a:\n    cmd: x\n    outs: [.keel/x]\n", "inside Keel's or git's own folder"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, stages: str, fragment: str) -> None:
    root = _project(tmp_path, stages)
    with pytest.raises(ConfigError) as info:
        _parse(root)
    assert fragment in str(info.value)
    assert str(info.value).startswith("keel.yaml")
