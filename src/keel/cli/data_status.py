"""What ``keel data status`` does and prints, without click: the console script runs
``keel data status`` and ``keel data status --json`` through here directly (see
:mod:`keel.cli.entry`), and the click command of :mod:`keel.cli.data_cmds` with any other
options."""

from __future__ import annotations

import sys

from keel.cli.render import echo, emit_json


def _sample(items: list[str], limit: int) -> list[str]:
    return items if len(items) <= limit else [*items[:limit], f"… and {len(items) - limit} more"]


def status_command(
    paths: tuple[str, ...] = (), show_all: bool = False, exit_code: bool = False, as_json: bool = False
) -> None:
    """``keel data status`` with these options (the defaults are the command's)."""
    from keel.data.context import open_data
    from keel.data.status import data_status

    found = data_status(open_data(), list(paths) or None)
    changed = any(s.state != "unchanged" for s in found)
    if as_json:
        emit_json([s.to_dict() for s in found])
    elif not found:
        echo("Nothing is tracked yet: keel data add PATH")
    else:
        limit = 10**9 if show_all else 20
        for item in found:
            if item.state == "unchanged":
                echo(f"{item.path}: unchanged")
            elif item.state == "missing":
                echo(f"{item.path}: missing from the workspace (keel data checkout {item.path})")
            elif item.state == "not_local":
                echo(f"{item.path}: its recorded version is not in the local store (keel pull)")
            else:
                echo(
                    f"{item.path}: {len(item.added)} added, {len(item.modified)} modified, {len(item.deleted)} deleted"
                )
                for label, files in (
                    ("added", item.added),
                    ("modified", item.modified),
                    ("deleted", item.deleted),
                ):
                    for name in _sample(files, limit):
                        echo(f"  {label:<9}{name or item.path}")
    if exit_code and changed:
        sys.exit(1)
