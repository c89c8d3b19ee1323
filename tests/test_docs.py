"""Docs that cannot rot: generated references are current; every command, setting, public
API name and error class is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_generated_references_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _all_commands(group: click.Group, prefix: str) -> list[str]:
    ctx = click.Context(group)
    names = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += _all_commands(command, f"{prefix} {name}")
    return names


def test_every_command_is_in_the_cli_reference_and_has_help() -> None:
    from keel.cli.main import cli

    page = (DOCS / "cli.md").read_text()
    for name in _all_commands(cli, "keel"):
        assert f"`{name}`" in page, name


def test_every_setting_is_documented() -> None:
    from keel.core.settings import SETTINGS

    page = (DOCS / "configuration.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.name}`" in page and f"`{setting.env}`" in page


def test_every_public_api_name_is_in_the_guides() -> None:
    import keel

    guide = "".join(
        (DOCS / page).read_text()
        for page in (
            "tracking.md",
            "data.md",
            "errors.md",
            "models.md",
            "serving.md",
            "checks.md",
            "monitoring.md",
        )
    )
    for name in keel.__all__:
        if name.startswith("_"):
            continue
        assert name in guide, name


def test_every_error_class_and_exit_code_is_documented() -> None:
    from keel.core import errors

    page = (DOCS / "errors.md").read_text()
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.KeelError):
            assert f"`keel.{value.__name__}`" in page, value.__name__
            assert f"`{value.code}`" in page
            assert f"| {value.exit_code} |" in page


def test_readme_starts_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_section = text.split("\n## ", 1)[0]
    commands = [
        line for line in first_section.splitlines() if line.startswith("python3 -m pip install uv && ")
    ]
    assert len(commands) == 2, commands
    assert "keel quickstart" in commands[0]
    assert "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "run --locked pytest" in ci and "pip install --quiet uv" in ci


def test_docs_links_resolve() -> None:
    import re

    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
