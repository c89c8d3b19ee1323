"""``keel models …``: the model registry."""

from __future__ import annotations

from typing import Any

import click

from keel.cli.options import json_option
from keel.cli.render import (
    console,
    emit_json,
    escape,
    fmt_ago,
    fmt_time,
    fmt_value,
    new_table,
    short_id,
)


@click.group()
def models() -> None:
    """The model registry: versions, aliases, tags, lineage.

    Models are registered from Python with keel.log_model(model, "NAME", input_example=X)
    (inside a run, e.g. a pipeline stage). References: NAME (latest version), NAME/3,
    NAME@production, run:RUN_ID/model.

    \b
    Examples:
      keel models list
      keel models show churn@production
      keel models alias churn 3 production --reason "beats v2 on May data"
      keel models history churn
      keel models lineage churn@production
    """


def _aliases(aliases: Any) -> str:
    if isinstance(aliases, dict):
        return ", ".join(f"{a}→{v}" for a, v in aliases.items())
    return ", ".join(aliases)


@models.command("list")
@json_option
def list_cmd(as_json: bool) -> None:
    """List registered models with their latest version and aliases."""
    from keel.models.registry import list_models

    found = list_models()
    if as_json:
        emit_json([m.to_dict() for m in found])
        return
    if not found:
        click.echo('No models registered yet; log one with keel.log_model(model, "NAME", input_example=X).')
        return
    table = new_table("name", "latest", "versions", "aliases", "created")
    for model in found:
        table.add_row(
            escape(model.name),
            str(model.latest_version or ""),
            str(model.versions),
            escape(_aliases(model.aliases)),
            fmt_ago(model.created),
        )
    console().print(table)


@models.command("show")
@click.argument("ref")
@json_option
def show(ref: str, as_json: bool) -> None:
    """Show a model (NAME: every version) or one version (NAME/3, NAME@ALIAS, run:ID/PATH)."""
    from keel.core.models import parse_model_ref
    from keel.models.registry import get_registered_model, list_versions, package_of

    parsed = parse_model_ref(ref)
    if parsed.name is not None and parsed.version is None and parsed.alias is None and "@" not in ref:
        model = get_registered_model(parsed.name)
        versions = list_versions(parsed.name)
        if as_json:
            emit_json({**model.to_dict(), "versions_list": [v.to_dict() for v in versions]})
            return
        out = console()
        out.print(f"[bold]{escape(model.name)}[/bold]  {model.versions} version(s)")
        if model.description:
            out.print(escape(model.description))
        if model.tags:
            out.print("tags: " + escape(", ".join(f"{k}={v}" for k, v in model.tags.items())))
        table = new_table("version", "aliases", "flavor", "run", "created", "by", "package")
        for version in versions:
            table.add_row(
                str(version.version),
                escape(", ".join(version.aliases)),
                version.flavor,
                short_id(version.run_id),
                fmt_time(version.created),
                escape(version.created_by or ""),
                version.package_oid[:12],
            )
        out.print(table)
        return
    version, package = package_of(parsed)
    manifest = package.manifest
    if as_json:
        emit_json({**version.to_dict(), "manifest": manifest})
        return
    out = console()
    out.print(f"[bold]{escape(version.ref)}[/bold]  {escape(', '.join(version.aliases))}")
    rows = [
        ("flavor", version.flavor),
        ("package", f"{version.package_oid} ({version.size:,} bytes)"),
        ("run", f"{version.run_id or '-'}  (path {version.path})"),
        ("created", f"{fmt_time(version.created)} by {version.created_by or '?'}"),
        ("python", str(manifest.get("python", ""))),
        ("requirements", ", ".join(manifest.get("requirements") or [])),
    ]
    if version.tags:
        rows.append(("tags", ", ".join(f"{k}={v}" for k, v in version.tags.items())))
    metrics = manifest.get("metrics") or {}
    if metrics:
        rows.append(("metrics", ", ".join(f"{k}={fmt_value(v)}" for k, v in metrics.items())))
    for label, value in rows:
        out.print(f"{label:<13}{escape(value)}")
    signature = manifest.get("signature")
    if isinstance(signature, dict):
        table = new_table("input", "type", "nullable", title=f"signature (output: {signature.get('output')})")
        for column in signature.get("inputs") or []:
            table.add_row(
                escape(str(column.get("name"))),
                str(column.get("type")),
                "yes" if column.get("nullable") else "",
            )
        out.print(table)
        if signature.get("classes"):
            out.print("classes: " + escape(", ".join(str(c) for c in signature["classes"])))


@models.command("alias")
@click.argument("name")
@click.argument("version")
@click.argument("alias")
@click.option("--reason", help="Why (kept in the history; required with --force).")
@click.option("--force", is_flag=True, help="Move it even though required checks failed or never ran.")
@json_option
def alias_cmd(name: str, version: str, alias: str, reason: str | None, force: bool, as_json: bool) -> None:
    """Point ALIAS (production, staging, …) at VERSION of NAME; the move is recorded.

    Aliases are a lowercase letter then lowercase letters, digits, _ or - (up to 64);
    'latest' is reserved (it always means the newest version). When a model check spec in
    checks/ lists ALIAS under required_for, the version must have passed it
    (keel check model NAME/VERSION --spec FILE); --force --reason "…" overrides, recorded.
    """
    from keel.checks.gate import promote

    previous = promote(name, version, alias, reason=reason, force=force)
    if as_json:
        emit_json({"name": name, "alias": alias, "from_version": previous, "to_version": int(version)})
        return
    moved = f"from {previous} " if previous is not None else ""
    click.echo(f"{name}@{alias} moved {moved}to version {int(version)}")


@models.command("unalias")
@click.argument("name")
@click.argument("alias")
@click.option("--reason", help="Why (kept in the history).")
def unalias(name: str, alias: str, reason: str | None) -> None:
    """Remove ALIAS from NAME (recorded in the history)."""
    from keel.models.registry import remove_alias

    previous = remove_alias(name, alias, reason=reason)
    click.echo(f"{name}@{alias} removed (it pointed at version {previous})")


@models.command("history")
@click.argument("name")
@click.option("--alias", help="Only this alias.")
@json_option
def history(name: str, alias: str | None, as_json: bool) -> None:
    """Every alias move of NAME: when, who, alias, from, to, reason."""
    from keel.models.registry import alias_history

    events = alias_history(name, alias)
    if as_json:
        emit_json([e.to_dict() for e in events])
        return
    if not events:
        click.echo(f"No alias of {name} has been set yet (keel models alias {name} VERSION production).")
        return
    table = new_table("when", "who", "alias", "from", "to", "reason")
    for event in events:
        table.add_row(
            fmt_time(event.at),
            escape(event.actor or ""),
            event.alias,
            "" if event.from_version is None else str(event.from_version),
            "(removed)" if event.to_version is None else str(event.to_version),
            ("[red]forced[/] " if event.forced else "") + escape(event.reason or ""),
        )
    console().print(table)


@models.command("tag")
@click.argument("ref")
@click.argument("tags", nargs=-1)
@click.option("--remove", multiple=True, help="Remove this tag (repeatable).")
def tag(ref: str, tags: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Set KEY=VALUE tags on a model (NAME) or a version (NAME/3, NAME@ALIAS)."""
    from keel.core.errors import InvalidInput
    from keel.core.models import parse_model_ref
    from keel.models.registry import get_model_version, set_tags

    values = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"Tag {item!r} is not KEY=VALUE, e.g. owner=team-a.")
        values[key] = value
    if not values and not remove:
        raise InvalidInput("Give at least one KEY=VALUE tag or --remove KEY.")
    parsed = parse_model_ref(ref)
    if parsed.run_id is not None:
        raise InvalidInput("Tag a registered model by NAME, NAME/VERSION or NAME@ALIAS.")
    version = None
    if parsed.version is not None or parsed.alias is not None:
        version = get_model_version(parsed).version
    assert parsed.name is not None
    set_tags(parsed.name, version, values, list(remove))
    target = parsed.name if version is None else f"{parsed.name}/{version}"
    click.echo(f"tagged {target}")


@models.command("delete")
@click.argument("ref")
@json_option
def delete(ref: str, as_json: bool) -> None:
    """Delete one version (NAME/VERSION); refused while an alias points at it.

    Its package stays in the object store until `keel gc` finds nothing else using it.
    """
    from keel.core.errors import InvalidInput
    from keel.core.models import parse_model_ref
    from keel.models.registry import delete_version

    parsed = parse_model_ref(ref)
    if parsed.version is None or parsed.name is None:
        raise InvalidInput(f"Give the version to delete as NAME/VERSION, e.g. {parsed.name or 'model'}/3.")
    removed = delete_version(parsed.name, parsed.version)
    if as_json:
        emit_json(removed.to_dict())
        return
    click.echo(f"deleted {removed.ref} (package {removed.package_oid[:12]}; `keel gc` frees it when unused)")


@models.command("lineage")
@click.argument("ref")
@json_option
def lineage_cmd(ref: str, as_json: bool) -> None:
    """Where a model came from: its run, params, metrics, data, commit, environment, and the
    runs upstream that produced its data."""
    from keel.models.registry import lineage

    found = lineage(ref)
    if as_json:
        emit_json(found)
        return
    out = console()
    model = found["model"]
    out.print(f"[bold]{escape(model['name'])}/{model['version']}[/bold]  package {model['package'][:12]}")
    run = found.get("run")
    if not run:
        out.print("made outside any run: no lineage recorded")
        return
    if run.get("missing"):
        out.print(f"run {run['id']} is no longer in the store")
        return
    _print_run(out, run, "made by")
    for upstream in found.get("upstream") or []:
        produced = ", ".join(f"{d['path']}@{d['oid'][:12]}" for d in upstream.get("produced") or [])
        _print_run(out, upstream, f"upstream (wrote {produced})")


def _print_run(out: Any, run: dict[str, Any], label: str) -> None:
    git = run.get("git") or {}
    env = run.get("environment") or {}
    commit = (git.get("commit") or "no git")[:12] + (" (dirty)" if git.get("dirty") else "")
    out.print(f"\n{label}: run {run['id'][:12]} [dim]{escape(run.get('name') or '')}[/dim] ({run['status']})")
    out.print(f"  commit       {escape(commit)}")
    out.print(f"  python       {escape(str(env.get('python') or '?'))}")
    if run.get("params"):
        out.print(
            "  params       " + escape(", ".join(f"{k}={fmt_value(v)}" for k, v in run["params"].items()))
        )
    if run.get("metrics"):
        out.print(
            "  metrics      " + escape(", ".join(f"{k}={fmt_value(v)}" for k, v in run["metrics"].items()))
        )
    for dataset in run.get("inputs") or []:
        out.print(f"  input        {escape(dataset['path'])} @ {dataset['oid'][:12]}")
