from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.errors import ConfigError, NotFound
from keel.core.settings import SETTINGS, Settings
from keel.core.workspace import find_root, load_workspace, open_workspace


def test_defaults_then_file_then_env() -> None:
    settings = Settings.resolve({}, {})
    assert settings.flush_interval == 0.5
    assert settings.sources["flush_interval"] == "default"
    settings = Settings.resolve({}, {"flush_interval": 2})
    assert (settings.flush_interval, settings.sources["flush_interval"]) == (2.0, "file")
    settings = Settings.resolve({"KEEL_FLUSH_INTERVAL": "3.5"}, {"flush_interval": 2})
    assert (settings.flush_interval, settings.sources["flush_interval"]) == (3.5, "env")


def test_bool_parsing() -> None:
    assert Settings.resolve({"KEEL_CAPTURE_GIT": "no"}).capture_git is False
    assert Settings.resolve({"KEEL_CAPTURE_GIT": "ON"}).capture_git is True
    with pytest.raises(ConfigError, match="KEEL_CAPTURE_GIT: setting 'capture_git' must be true or false"):
        Settings.resolve({"KEEL_CAPTURE_GIT": "maybe"})


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"flush_intervall": 1}, "unknown setting 'flush_intervall'"),
        ({"flush_interval": "soon"}, "must be a number"),
        ({"flush_max_items": -1}, "must not be negative"),
        ({"sqlite_synchronous": "off"}, "must be one of normal, full"),
        ({"run_id": "abc"}, "cannot be set in a file"),
        ({"experiment": ["a"]}, "must be a single value"),
    ],
)
def test_bad_file_values(values: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        Settings.resolve({}, values)


def test_every_setting_has_help_and_env_name() -> None:
    for setting in SETTINGS:
        assert setting.help and setting.env == "KEEL_" + setting.name.upper()


def _project(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "keel.yaml").write_text(text)
    return root


def test_workspace_discovery_walks_up(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "version: 1\n")
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    assert find_root(deep) == root.resolve()
    ws = open_workspace(deep, env={})
    assert ws.root == root.resolve()
    assert ws.db_url == f"sqlite:///{root.resolve()}/.keel/keel.db"


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="run `keel init`"):
        open_workspace(tmp_path, env={})


def test_keel_workspace_env(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", "")
    assert open_workspace(tmp_path, env={"KEEL_WORKSPACE": str(root)}).root == root.resolve()
    with pytest.raises(NotFound, match="KEEL_WORKSPACE"):
        open_workspace(tmp_path, env={"KEEL_WORKSPACE": str(tmp_path / "nope")})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("settings:\n  flush_interval: 1\n  bogus: 2\n", "keel.yaml:3: unknown setting 'bogus'"),
        ("settings:\n  flush_interval: soon\n", "keel.yaml:2: setting 'flush_interval' must be a number"),
        ("stagez: {}\n", "keel.yaml:1: unknown section 'stagez'"),
        ("version: 99\n", "newer than this Keel"),
        ("version: [1\n", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("settings: 3\n", "'settings' must be a mapping"),
    ],
)
def test_keel_yaml_errors_name_file_and_line(tmp_path: Path, text: str, fragment: str) -> None:
    root = _project(tmp_path / "p", text)
    with pytest.raises(ConfigError) as info:
        load_workspace(root, env={})
    assert fragment in str(info.value)
