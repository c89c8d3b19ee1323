"""Output for people (tables) and for scripts (``--json``).

A terminal gets rich's colours and live tables. Piped output (scripts, CI logs, files) gets
the same tables as plain aligned text, one line per row, without importing rich: commands
that print to a pipe answer some 30 ms sooner. Cells and lines are written in rich's markup
either way (``[red]failed[/red]``, :func:`escape` for values); the plain renderer drops it.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any, Protocol

STATUS_STYLE = {
    "running": "cyan",
    "finished": "green",
    "failed": "red",
    "killed": "yellow",
    "dead": "magenta",
}

#: Widest cell of an optional column in a one-line table (see new_table).
EXTRA_WIDTH = 30
#: Widest cell of the first columns of a one-line table.
FIXED_WIDTH = 24
#: Width of piped output when COLUMNS does not say (rich's default would be 80).
PIPE_WIDTH = 160


class Out(Protocol):
    """What commands print through: a rich ``Console``, or :class:`PlainConsole`."""

    @property
    def width(self) -> int: ...

    @property
    def is_terminal(self) -> bool: ...

    def print(self, *objects: Any) -> None: ...


class TableOut(Protocol):
    """What commands fill: a rich ``Table``, or :class:`PlainTable`."""

    def add_row(self, *cells: str) -> None: ...


def rich_output() -> bool:
    """Whether stdout gets rich: a terminal, or a pipe rich is told to colour anyway
    (``FORCE_COLOR``, ``TTY_COMPATIBLE=1``), as rich itself decides."""
    compatible = os.environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return sys.stdout.isatty()
    except ValueError:  # closed
        return False


def console() -> Out:
    if not rich_output():
        return PlainConsole()
    from rich.console import Console

    width = PIPE_WIDTH if not sys.stdout.isatty() and not os.environ.get("COLUMNS") else None
    return Console(highlight=False, soft_wrap=False, width=width)


def new_table(*columns: str, title: str | None = None, fixed: int = 0) -> TableOut:
    """A plain table. With ``fixed=N``, cells stay on one line: the first N columns keep
    their full width and the others are cut with … when the terminal is narrow."""
    if not rich_output():
        return PlainTable(columns, title, fixed)
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        if not fixed:
            table.add_column(column, overflow="fold")
        elif index < fixed:
            table.add_column(
                column, no_wrap=True, min_width=len(column), overflow="ellipsis", max_width=FIXED_WIDTH
            )
        else:
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=EXTRA_WIDTH)
    return table


# -- plain text ---------------------------------------------------------------------------------

# rich's markup tags: ``[style]``, ``[/style]``, ``[/]``, ``[link=…]``; a backslash escapes one.
_TAG = re.compile(r"(\\*)\[([a-z#/@][^[]*?)]")


def escape(text: str) -> str:
    """``text`` with anything that reads as markup escaped (the rules of rich.markup.escape)."""

    def double(match: re.Match[str]) -> str:
        backslashes, tag = match.groups()
        return f"{backslashes}{backslashes}\\[{tag}]"

    text = _TAG.sub(double, text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text


def plain(markup: str) -> str:
    """The text rich would show for ``markup``, without its styles."""

    def drop(match: re.Match[str]) -> str:
        backslashes, escaped = divmod(len(match.group(1)), 2)
        return "\\" * backslashes + (f"[{match.group(2)}]" if escaped else "")

    text = _TAG.sub(drop, markup)
    return text.translate(_CONTROL) if not text.isprintable() else text


# Control characters rich's Text leaves out (bell, backspace, vertical tab, form feed, CR).
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))


def cell_len(text: str) -> int:
    """Columns ``text`` takes on a terminal (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    from unicodedata import combining, east_asian_width

    return sum(0 if combining(c) else 2 if east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, ending in … when cut."""
    if cell_len(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        size = cell_len(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + " " * (width - 1 - used) + "…"


class PlainTable:
    """A table laid out as rich lays out :func:`new_table`'s (same columns, widths, rule and
    blank edges), as text. Rows are never folded: a line per row, however wide."""

    def __init__(self, columns: tuple[str, ...], title: str | None, fixed: int) -> None:
        self.title = title
        self.columns = columns
        # (least, most) columns of each column's cells; only one-line tables have limits.
        self.limits: list[tuple[int, int | None]] = [
            (0, None) if not fixed else (len(c), FIXED_WIDTH) if i < fixed else (0, EXTRA_WIDTH)
            for i, c in enumerate(columns)
        ]
        self.rows: list[tuple[str, ...]] = []

    def add_row(self, *cells: str) -> None:
        if len(cells) > len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(cells + ("",) * (len(self.columns) - len(cells)))

    def lines(self, rule: str = "─") -> list[str]:
        grid = [[plain(cell).expandtabs(8).split("\n") for cell in row] for row in [self.columns, *self.rows]]
        widths = []
        for index, (least, most) in enumerate(self.limits):
            width = max(least, *(cell_len(line) for row in grid for line in row[index]))
            widths.append(width if most is None else min(width, most))
        inner = sum(widths) + 3 * (len(widths) - 1)
        out = []
        for number, row in enumerate(grid):
            for depth in range(max(len(cell) for cell in row)):
                parts = []
                for cell, width in zip(row, widths, strict=True):
                    text = _cut(cell[depth], width) if depth < len(cell) else ""
                    parts.append(text + " " * (width - cell_len(text)))
                out.append(" " + "   ".join(parts) + " ")
            if number == 0:
                out.append(" " + rule * inner + " ")
        if self.title is not None:
            out.insert(0, plain(self.title))
        # rich's layout without what only pads it: the blank first and last lines, and the
        # spaces that end each line.
        return [line.rstrip() for line in out]


class PlainConsole:
    """Prints markup as plain text and tables as :class:`PlainTable` lines, to stdout as it is
    when printing (and flushed, so it interleaves with subprocesses' output in order)."""

    is_terminal = False

    @property
    def width(self) -> int:
        try:
            return int(os.environ.get("COLUMNS", "")) or PIPE_WIDTH
        except ValueError:
            return PIPE_WIDTH

    def print(self, *objects: Any) -> None:
        stream = sys.stdout
        rule = "─" if (getattr(stream, "encoding", None) or "utf-8").lower().startswith("utf") else "-"
        texts = []
        for item in objects:
            texts.append("\n".join(item.lines(rule)) if isinstance(item, PlainTable) else plain(str(item)))
        stream.write(" ".join(texts) + "\n")
        stream.flush()


def echo(text: str = "", err: bool = False) -> None:
    """Print a line to stdout (or stderr); characters the stream cannot encode (an ASCII
    terminal) are replaced rather than failing the command."""
    stream = sys.stderr if err else sys.stdout
    line = text + "\n"
    try:
        stream.write(line)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        stream.write(line.encode(encoding, "replace").decode(encoding))
    stream.flush()


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON; NaN and infinities become "NaN", "Infinity", "-Infinity"."""
    print(json.dumps(_finite(data), indent=2, default=_default, allow_nan=False), flush=True)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        from keel.core.entities import json_number

        return json_number(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):  # records first: some are named tuples
        return _finite(value.to_dict())
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def short_id(run_id: str | None) -> str:
    return run_id[:8] if run_id else ""


def human_size(size: int | None) -> str:
    """A byte count as people read it: 512 B, 1.5 KiB, 2.0 GiB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def fmt_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if seconds < 60:
        return f"{max(0, int(seconds))}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    return fmt_time(moment)[:10]


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status, "white")
    return f"[{style}]{status}[/{style}]"
