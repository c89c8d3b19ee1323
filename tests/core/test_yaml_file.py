"""Project YAML files: parsed with line numbers, and kept parsed while their text is unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from keel.core.errors import ConfigError
from keel.core.yaml_file import PARSED_DIR, YamlSyntaxError, load_yaml_mapping, safe_load


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / ".keel").mkdir()  # a project root: parses are kept here
    return tmp_path


def test_a_parse_is_kept_and_used_while_the_text_is_the_same(root: Path) -> None:
    path = root / "keel.yaml"
    path.write_text("stages:\n  train:\n    cmd: python train.py\n    deps: [a, b]\n")
    first = load_yaml_mapping(path)
    kept = root / PARSED_DIR / "keel.yaml.json"
    assert json.loads(kept.read_text())["data"] == first.data
    # What is kept is what is used: doctor it, and the next load returns the doctored data.
    body = json.loads(kept.read_text())
    body["data"]["stages"]["train"]["cmd"] = "from the kept parse"
    kept.write_text(json.dumps(body))
    again = load_yaml_mapping(path)
    assert again.data["stages"]["train"]["cmd"] == "from the kept parse"
    assert again.where("stages", "train", "deps") == "keel.yaml:4"
    # Any change to the text (even one that keeps the size and the time) is parsed again.
    path.write_text("stages:\n  train:\n    cmd: python tests.py\n    deps: [a, b]\n")
    assert load_yaml_mapping(path).data["stages"]["train"]["cmd"] == "python tests.py"


def test_a_kept_parse_spares_the_yaml_import(root: Path) -> None:
    path = root / "params.yaml"
    path.write_text("train:\n  lr: 0.1\n")
    code = (
        "import sys\nfrom pathlib import Path\nfrom keel.core.yaml_file import safe_load\n"
        f"value = safe_load(Path({str(path)!r}).read_text(), cache_as=Path({str(path)!r}))\n"
        "print(value, 'yaml' in sys.modules)\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True) for _ in "12"
    ]
    assert [r.stdout.strip() for r in runs] == ["{'train': {'lr': 0.1}} True", "{'train': {'lr': 0.1}} False"]


def test_what_json_cannot_hold_exactly_is_not_kept(root: Path) -> None:
    path = root / "params.yaml"
    for text in ("when: 2026-11-29\n", "1: one\n", "x: .nan\n"):
        path.write_text(text)
        assert safe_load(text, cache_as=path) == safe_load(text, cache_as=path)
        assert not (root / PARSED_DIR / "params.yaml.json").exists(), text


def test_errors_are_reported_every_time(root: Path) -> None:
    path = root / "keel.yaml"
    path.write_text("a: 1\na: 2\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="keel.yaml:2: key 'a' appears twice"):
            load_yaml_mapping(path)
    for _ in range(2):
        with pytest.raises(YamlSyntaxError) as raised:
            safe_load("a: [1, 2\nb: 3\n", cache_as=path)
        assert raised.value.line == 2
    assert not (root / PARSED_DIR).exists()


def test_files_outside_a_project_root_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text("a: 1\n")
    assert load_yaml_mapping(path).data == {"a": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_anchors_shared_by_aliases_are_not_kept(root: Path) -> None:
    """An alias is the anchor's object: a change through one shows through the other, which
    a JSON copy would not keep."""
    path = root / "params.yaml"
    text = "base: &b {lr: 0.1}\ntrain: *b\n"
    path.write_text(text)
    for _ in range(2):
        data = safe_load(text, cache_as=path)
        data["base"]["lr"] = 0.2
        assert data["train"]["lr"] == 0.2
    assert not (root / PARSED_DIR / "params.yaml.json").exists()


def test_keel_lock_keeps_what_its_text_parses_to(root: Path) -> None:
    """update_lock keeps the body it dumped instead of parsing its text again: the two must
    be the same for every kind of value a stage record holds."""
    from keel.data.lockfile import update_lock

    awkward = {
        "lr": 0.1,
        "tiny": 1e-300,
        "big": 123456789012345678901234567890,
        "flags": [True, False, None],
        "looks_like": ["1", "0.5", "yes", "null", "~", "", " padded ", "a: b", "#x", "- y"],
        "text": "multi\nline\ttext ünïcode",
        "empty": {},
        "nested": {"a": [{"b": []}]},
    }
    with update_lock(root) as lock:
        lock.extra["stages"] = {"train": {"key": "k" * 64, "params": awkward, "outs": {}}}
    kept = json.loads((root / PARSED_DIR / "keel.lock.json").read_text())["data"]
    parsed = safe_load((root / "keel.lock").read_text())
    assert kept == parsed
    assert parsed["stages"]["train"]["params"] == awkward
