"""Output for people (rich tables) and for scripts (``--json``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
)

STATUS_STYLE = {
    "running": "cyan",
    "finished": "green",
    "failed": "red",
    "killed": "yellow",
    "dead": "magenta",
}


def console() -> Console:
    import os
    import sys

    from rich.console import Console

    # Piped output (scripts, CI logs) gets a wide page instead of rich's 80-column default.
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def new_table(*columns: str, title: str | None = None, fixed: int = 0) -> Table:
    """A plain table. With ``fixed=N``, cells stay on one line: the first N columns keep
    their full width and the others are cut with … when the terminal is narrow."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        if not fixed:
            table.add_column(column, overflow="fold")
        elif index < fixed:
            table.add_column(column, no_wrap=True, min_width=len(column), overflow="ellipsis", max_width=24)
        else:
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=EXTRA_WIDTH)
    return table


#: Widest cell of an optional column in a one-line table (see new_table).
EXTRA_WIDTH = 30


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON; NaN and infinities become "NaN", "Infinity", "-Infinity"."""
    click.echo(json.dumps(_finite(data), indent=2, default=_default, allow_nan=False))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        from keel.core.entities import json_number

        return json_number(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "to_dict"):
        return _finite(value.to_dict())
    return value


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def short_id(run_id: str | None) -> str:
    return run_id[:8] if run_id else ""


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


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)
