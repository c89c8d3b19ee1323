"""What ``keel data checkout`` and ``keel push`` do and print, without click: the console
script runs them bare or with ``--json`` through here directly (see :mod:`keel.cli.entry`),
and the click commands of :mod:`keel.cli.data_cmds` with any other options."""

from __future__ import annotations

from keel.cli.progress import progress_bars
from keel.cli.render import echo, emit_json, human_size


def checkout_command(
    paths: tuple[str, ...] = (),
    rev: str | None = None,
    force: bool = False,
    remote_name: str | None = None,
    as_json: bool = False,
) -> None:
    """``keel data checkout`` with these options (the defaults are the command's)."""
    from keel.data.checkout import data_checkout
    from keel.data.context import open_data
    from keel.data.git_revs import lock_at
    from keel.data.sync import fetch_if_missing

    ctx = open_data()
    lock = lock_at(ctx.root, rev) if rev else None
    with progress_bars(not as_json) as start:
        fetch_if_missing(ctx, lock, list(paths) or None, remote_name, start)
        results = data_checkout(
            ctx,
            list(paths) or None,
            lock,
            force,
            progress_for=lambda path, total: start(f"checkout {path}", total),
        )
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    for r in results:
        echo(
            f"{r.path}: {r.written:,} written, {r.removed:,} removed, {r.unchanged:,} unchanged ({r.method})"
        )


def push_command(paths: tuple[str, ...] = (), remote_name: str | None = None, as_json: bool = False) -> None:
    """``keel push`` with these options (the defaults are the command's)."""
    from keel.data.context import open_data
    from keel.data.references import shared_objects
    from keel.data.remotes import connect
    from keel.data.status import selected
    from keel.data.transfer import push as push_objects

    ctx = open_data()
    versions = selected(ctx, list(paths) or None)
    if not paths:
        versions = versions + shared_objects(ctx, local_only=True)
    target = connect(ctx.workspace, remote_name)
    with progress_bars(not as_json) as start:
        result = push_objects(
            ctx, target, versions, progress_start=lambda n: start(f"push → {target.name}", n)
        )
    if as_json:
        emit_json(result.to_dict())
        return
    echo(
        f"Pushed {result.transferred:,} object(s) ({human_size(result.bytes)}) to {target.name}; "
        f"{result.present:,} were already there."
    )
