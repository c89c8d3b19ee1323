"""Tables and markup: piped output is plain text laid out as rich lays out a terminal's."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.text import Text

from keel.cli.render import PlainConsole, PlainTable, console, escape, new_table, plain

ROWS = [
    ("prepare", "[green]ran[/green]", "0.3s", "forced (--force)"),
    ("train", "[red]failed[/red]", "", escape("exit code 1 [see stderr.log]")),
    ("évaluer", "[yellow]skipped[/yellow]", "", "upstream train did not complete"),
    ("multi", "line", "", "first\nsecond line"),
    ("wide", "数据", "", "tab\there"),
]


def _rich_text(table: object) -> str:
    """What rich prints for ``table``, less what only pads it in a pipe: its blank first and
    last lines and the spaces that end each line."""
    out = Console(file=io.StringIO(), width=160, highlight=False, soft_wrap=False, color_system=None)
    out.print(table)
    lines = [line.rstrip() for line in str(out.file.getvalue()).splitlines()]  # type: ignore[attr-defined]
    title = 1 if getattr(table, "title", None) else 0
    assert lines[title] == "" and lines[-1] == ""  # the padding lines
    del lines[-1], lines[title]
    return "\n".join(lines) + "\n"


def _tables(monkeypatch: pytest.MonkeyPatch, rich: bool) -> list[object]:
    monkeypatch.setenv("TTY_COMPATIBLE", "1" if rich else "0")
    stages = new_table("stage", "state", "time", "why")
    for row in ROWS:
        stages.add_row(*row)
    titled = new_table("key", "value", "", title="Params")
    titled.add_row("train.lr", "0.1")
    titled.add_row("a longer key than the title", "")
    runs = new_table("id", "experiment", "name", "metrics.a_metric_name_far_longer_than_thirty", fixed=2)
    runs.add_row("1a2b3c4d", "an experiment with a name longer than 24", "x", "1" * 40)
    runs.add_row("5e6f7a8b", "数据数据数据数据数据数据数据", "y", "0.5")
    empty = new_table("when", "status")
    return [stages, titled, runs, empty]


def test_plain_tables_are_laid_out_as_rich_lays_them_out(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [_rich_text(t) for t in _tables(monkeypatch, rich=True)]
    tables = _tables(monkeypatch, rich=False)
    assert all(isinstance(t, PlainTable) for t in tables)
    assert ["\n".join(t.lines()) + "\n" for t in tables] == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        "[red]",
        "[/]",
        "a\\[b]",
        "ends with \\",
        "\\\\[bold]x",
        "[1, 2]",
        "[link=x]y[/link]",
        "x[@click]",
    ],
)
def test_escape_and_plain_follow_rich_markup(text: str) -> None:
    assert escape(text) == rich_escape(text)
    for markup in (escape(text), f"[red]{escape(text)}[/red] and [dim]more[/]"):
        assert plain(markup) == Text.from_markup(markup).plain


def test_plain_console_prints_text_and_tables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    out = console()  # pytest's captured stdout is no terminal
    assert isinstance(out, PlainConsole) and out.width == 120 and not out.is_terminal
    table = new_table("a", "b")
    table.add_row("1", "[green]2[/green]")
    out.print("[dim]Pipeline run[/dim]", escape("[x]"))
    out.print(table)
    assert capsys.readouterr().out == "Pipeline run [x]\n a   b\n ─────\n 1   2\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not isinstance(console(), PlainConsole)
