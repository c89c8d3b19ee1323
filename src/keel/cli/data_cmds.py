"""``keel data …``, ``keel remote …``, ``keel push``, ``keel pull`` and ``keel gc``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from keel.cli.options import json_option
from keel.cli.progress import progress_bars
from keel.cli.render import console, emit_json, escape, human_size, new_table

if TYPE_CHECKING:
    from keel.data.context import DataContext


def _ctx() -> DataContext:
    from keel.data.context import open_data

    return open_data()


@click.group()
def data() -> None:
    """Version data: snapshot files and folders, see what changed, go back to any version.

    \b
    Examples:
      keel data add data/raw            record data/raw's content in keel.lock
      keel data status                  what changed since
      keel data diff HEAD~1             what changed since the previous commit
      keel data checkout --rev v1.0     restore the data of a git tag
    """


@data.command("add")
@click.argument("paths", nargs=-1, required=True)
@json_option
def add(paths: tuple[str, ...], as_json: bool) -> None:
    """Snapshot PATHS (files or folders) into the object store and record them in keel.lock.

    Unchanged files are not read again (a stat cache remembers them). The paths are added to
    .gitignore; commit keel.lock and .gitignore with your code.
    """
    from keel.data.add import add_paths

    ctx = _ctx()
    with progress_bars(not as_json) as start:
        results = add_paths(ctx, list(paths), progress_for=lambda rel: start(f"hashing {rel}", None))
    if as_json:
        emit_json([r.to_dict() for r in results])
        return
    for result in results:
        tracked = result.tracked
        what = (
            f"{tracked.files:,} files, {human_size(tracked.size)}"
            if tracked.kind == "dir"
            else human_size(tracked.size)
        )
        state = "new version" if result.changed else "unchanged"
        click.echo(f"{tracked.path}: {what} → {tracked.oid[:12]} ({state})")
    click.echo("Commit the versions with your code: git add keel.lock .gitignore")


@data.command("status")
@click.argument("paths", nargs=-1)
@click.option(
    "--all", "show_all", is_flag=True, help="List every changed file, not the first 20 of each kind."
)
@click.option("--exit-code", is_flag=True, help="Exit with 1 when anything changed (for scripts and CI).")
@json_option
def status(paths: tuple[str, ...], show_all: bool, exit_code: bool, as_json: bool) -> None:
    """What changed in tracked data since keel.lock recorded it: added, modified, deleted."""
    from keel.cli.data_status import status_command

    status_command(paths, show_all, exit_code, as_json)


@data.command("checkout")
@click.argument("paths", nargs=-1)
@click.option(
    "--rev", help="Restore the versions recorded in keel.lock at this git revision (branch, tag, commit)."
)
@click.option("--force", is_flag=True, help="Overwrite uncommitted changes in the tracked paths.")
@click.option(
    "--remote", "remote_name", help="Remote to fetch missing objects from (default: the default remote)."
)
@json_option
def checkout(
    paths: tuple[str, ...], rev: str | None, force: bool, remote_name: str | None, as_json: bool
) -> None:
    """Make tracked paths hold the versions keel.lock records (at --rev), fetching missing
    objects from the remote. With --rev, keel.lock is updated to what was checked out."""
    from keel.cli.data_sync import checkout_command

    checkout_command(paths, rev, force, remote_name, as_json)


@data.command("unlock")
@click.argument("paths", nargs=-1, required=True)
def unlock_cmd(paths: tuple[str, ...]) -> None:
    """Make tracked files writable again after `data_link: hardlink` (which leaves them as
    read-only links to the stored objects): each becomes a plain copy you can edit."""
    from keel.data.checkout import unlock

    copied = unlock(_ctx(), list(paths))
    click.echo(f"Unlocked {len(copied):,} file(s); edit them, then `keel data add` the new version.")


@data.command("diff")
@click.argument("args", nargs=-1)
@click.option("--path", "path_option", help="Only this tracked path (or a part of it).")
@click.option("--no-tables", is_flag=True, help="Skip the schema and statistics of CSV/Parquet tables.")
@json_option
def diff(args: tuple[str, ...], path_option: str | None, no_tables: bool, as_json: bool) -> None:
    """Files added, removed and modified (with sizes) between two versions; for CSV and
    Parquet tables also schema changes, row counts and per-column summaries.

    \b
    keel data diff                     keel.lock vs the workspace
    keel data diff REV                 keel.lock at REV vs the workspace
    keel data diff REV_A REV_B [PATH]  two revisions (PATH limits to one path)
    """
    from keel.core.errors import InvalidInput
    from keel.data.diff import data_diff

    ctx = _ctx()
    items = list(args)
    path = path_option
    if items and path is None and _looks_like_path(ctx, items[-1]):
        path = items.pop()
    if len(items) > 2:
        raise InvalidInput("keel data diff takes at most two revisions and a path.")
    rev_a = items[0] if items else None
    rev_b = items[1] if len(items) > 1 else None
    report = data_diff(ctx, rev_a, rev_b, path=path, tables=not no_tables)
    if as_json:
        emit_json(report.to_dict())
        return
    _print_diff(report)


def _looks_like_path(ctx: DataContext, text: str) -> bool:
    from keel.data.lockfile import read_lock

    candidate = Path(text)
    absolute = candidate if candidate.is_absolute() else Path.cwd() / candidate
    if absolute.exists():
        return True
    try:
        rel = absolute.resolve().relative_to(ctx.root).as_posix()
    except ValueError:
        return False
    tracked = read_lock(ctx.root).data
    return any(rel == p or rel.startswith(p + "/") for p in tracked)


def _print_diff(report: object) -> None:
    from keel.data.diff import DiffReport

    assert isinstance(report, DiffReport)
    out = console()
    if not report.changes:
        out.print(f"No differences between {escape(report.old)} and {escape(report.new)}.")
        return
    table = new_table("change", "path", "old size", "new size", title=f"{report.old} → {report.new}")
    for change in report.changes:
        table.add_row(
            change.change, escape(change.path), human_size(change.old_size), human_size(change.new_size)
        )
    out.print(table)
    for change in report.changes:
        if change.note:
            out.print(f"[dim]{escape(change.path)}: {escape(change.note)}[/dim]")
        if not change.table:
            continue
        t = change.table
        out.print(f"[bold]{escape(change.path)}[/bold]: rows {t['rows'][0]:,} → {t['rows'][1]:,}")
        for column in t["columns_added"]:
            out.print(f"  + column {escape(column)}")
        for column in t["columns_removed"]:
            out.print(f"  - column {escape(column)}")
        for column, (old, new) in t["type_changes"].items():
            out.print(f"  ~ column {escape(column)}: type {old} → {new}")
        for column, stats in t["column_changes"].items():
            parts = ", ".join(f"{k} {v[0]} → {v[1]}" for k, v in stats.items())
            out.print(f"  ~ {escape(column)}: {escape(parts)}")


@data.command("log")
@click.argument("path")
@json_option
def log(path: str, as_json: bool) -> None:
    """The versions of PATH across git history (commits where keel.lock changed it)."""
    from keel.data.history import data_log

    versions = data_log(_ctx(), path)
    if as_json:
        emit_json([v.to_dict() for v in versions])
        return
    table = new_table("commit", "date", "version", "files", "size", "message")
    for v in versions:
        table.add_row(
            v.commit[:10],
            v.date[:19].replace("T", " "),
            v.oid[:12] if v.oid else "(untracked)",
            f"{v.files:,}" if v.files is not None else "",
            human_size(v.size),
            escape(v.subject),
        )
    console().print(table)


@data.command("verify")
@click.option(
    "--remote",
    "remote_name",
    is_flag=False,
    flag_value="",
    default=None,
    help="Check that a remote (the default one, or NAME) holds every object.",
)
@json_option
def verify(remote_name: str | None, as_json: bool) -> None:
    """Rehash the objects tracked data needs and report corrupt or missing ones by id and
    path (exit code 5 when any is). `keel pull --force` repairs them from a remote."""
    from keel.data.remotes import connect
    from keel.data.verify import verify_local, verify_remote

    ctx = _ctx()
    if remote_name is not None:
        report = verify_remote(ctx, connect(ctx.workspace, remote_name or None))
    else:
        with progress_bars(not as_json) as start:
            report = verify_local(ctx, start("verifying", None))
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(f"{report.checked:,} object(s) checked ({report.where}).")
        for item in report.corrupt:
            click.echo(f"  corrupt  {item['oid'][:12]}  {item['path']}")
        for item in report.missing:
            click.echo(f"  missing  {item['oid'][:12]}  {item['path']}")
        if report.ok:
            click.echo("All intact.")
        elif report.where == "local":
            click.echo("Repair from a remote with: keel pull --force")
    if not report.ok:
        sys.exit(5)


@click.group()
def remote() -> None:
    """Remotes: where `keel push` and `keel pull` send and fetch data (a folder, s3://…, any
    fsspec URL). They are stored in keel.yaml, so every clone knows them."""


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option(
    "--default", "make_default", is_flag=True, help="Make it the default remote (the first remote is)."
)
@click.option("--force", is_flag=True, help="Replace an existing remote of that name.")
@click.option(
    "-o",
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option for the remote, e.g. endpoint_url=http://127.0.0.1:9000 (repeatable).",
)
def remote_add(name: str, url: str, make_default: bool, force: bool, options: tuple[str, ...]) -> None:
    """Add a remote NAME at URL (a folder path, file://…, s3://bucket/prefix, gs://…).

    S3 credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    AWS_PROFILE), never from keel.yaml. An S3-compatible server (MinIO, moto…) is reached
    with -o endpoint_url=http://host:9000.
    """
    from keel.cli.options import key_values
    from keel.core.workspace import open_workspace
    from keel.data.remotes import add_remote

    extra = key_values(options, "--option", parse_json=True)
    config = add_remote(open_workspace(), name, url, make_default, force, extra)
    click.echo(f"Remote {config.name} → {config.url}" + (" (default)" if config.default else ""))


@remote.command("list")
@json_option
def remote_list(as_json: bool) -> None:
    """The remotes in keel.yaml; the default one is marked."""
    from keel.core.workspace import open_workspace
    from keel.data.remotes import list_remotes

    remotes = list_remotes(open_workspace())
    if as_json:
        emit_json([r.to_dict() for r in remotes])
        return
    if not remotes:
        click.echo("No remotes. Add one: keel remote add origin /path/to/folder (or s3://bucket/keel)")
    for r in remotes:
        click.echo(f"{'*' if r.default else ' '} {r.name}\t{r.url}")


@remote.command("remove")
@click.argument("name")
def remote_remove(name: str) -> None:
    """Remove remote NAME from keel.yaml (its contents are not touched)."""
    from keel.core.workspace import open_workspace
    from keel.data.remotes import remove_remote

    remove_remote(open_workspace(), name)
    click.echo(f"Removed remote {name}.")


@click.command()
@click.argument("paths", nargs=-1)
@click.option("-r", "--remote", "remote_name", help="Remote to push to (default: the default remote).")
@json_option
def push(paths: tuple[str, ...], remote_name: str | None, as_json: bool) -> None:
    """Send the objects of tracked data (all, or PATHS) that the remote lacks (to a network
    remote several at once); without PATHS also every registered model package and run artifact, so teammates can
    load the models and read the runs. Safe to interrupt: rerun it to send the rest."""
    from keel.cli.data_sync import push_command

    push_command(paths, remote_name, as_json)


@click.command()
@click.argument("paths", nargs=-1)
@click.option("-r", "--remote", "remote_name", help="Remote to pull from (default: the default remote).")
@click.option(
    "--force",
    is_flag=True,
    help="Also rehash local objects and replace corrupt ones; overwrite local changes.",
)
@json_option
def pull(paths: tuple[str, ...], remote_name: str | None, force: bool, as_json: bool) -> None:
    """Fetch the objects of tracked data (all, or PATHS) that the local store lacks, then
    check the data out into the workspace; without PATHS also the registered model packages
    (loading a model fetches its package from the default remote by itself, too)."""
    from keel.data.checkout import data_checkout
    from keel.data.remotes import connect
    from keel.data.status import selected
    from keel.data.transfer import fetch

    ctx = _ctx()
    versions = selected(ctx, list(paths) or None)
    source = connect(ctx.workspace, remote_name)
    with progress_bars(not as_json) as start:
        if not paths:
            from keel.data.references import package_versions

            versions = versions + package_versions(ctx)
        result = fetch(
            ctx, source, versions, force=force, progress_start=lambda n: start(f"pull ← {source.name}", n)
        )
        checked = data_checkout(ctx, list(paths) or None, force=force)
    if as_json:
        emit_json({**result.to_dict(), "checkout": [c.to_dict() for c in checked]})
        return
    click.echo(
        f"Fetched {result.transferred:,} object(s) ({human_size(result.bytes)}) from {source.name}; "
        f"{result.present:,} were already here."
    )
    if result.repaired:
        click.echo(f"Replaced {len(result.repaired)} corrupt object(s).")
    for c in checked:
        click.echo(f"{c.path}: {c.written:,} written, {c.removed:,} removed, {c.unchanged:,} unchanged")


@click.command()
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
@click.option(
    "-r", "--remote", "remote_name", help="Collect garbage on this remote instead of the local store."
)
@click.option(
    "--workspace-only",
    is_flag=True,
    help="Keep only what the workspace's keel.lock and runs use (not other branches and tags).",
)
@json_option
def gc(dry_run: bool, remote_name: str | None, workspace_only: bool, as_json: bool) -> None:
    """Delete objects nothing refers to: no keel.lock on any branch or tag (unless
    --workspace-only), no run. Objects younger than gc_grace_hours are kept."""
    from keel.data.gc import gc_local, gc_remote
    from keel.data.remotes import connect

    ctx = _ctx()
    if remote_name:
        report = gc_remote(ctx, connect(ctx.workspace, remote_name), dry_run, workspace_only)
    else:
        report = gc_local(ctx, dry_run, workspace_only)
    if as_json:
        emit_json(report.to_dict())
        return
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {report.deleted:,} object(s) ({human_size(report.bytes)}) from {report.where}; "
        f"kept {report.kept:,} in use and {report.young:,} younger than the grace period."
    )
