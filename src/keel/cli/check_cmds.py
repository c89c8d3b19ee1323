"""``keel check …``: infer schemas, validate data, gate models, and run every check for CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli.options import json_option
from keel.cli.render import emit_json

if TYPE_CHECKING:
    from keel.checks.results import CheckReport

junit_option = click.option(
    "--junit",
    "junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JUnit XML to this file (for CI test reports).",
)
no_record_option = click.option(
    "--no-record", is_flag=True, help="Do not record the result as a check run (a dry look)."
)


@click.group()
def check() -> None:
    """Check data against schemas and models against quality gates.

    \b
    keel check infer data/raw/wine.csv            write checks/wine.schema.yaml to edit
    keel check data data/raw/wine.csv --schema checks/wine.schema.yaml
    keel check model wine/3 --spec checks/wine.model.yaml
    keel check compare data/serving.csv --reference data/raw/wine.csv
    keel check all --junit reports/checks.xml     every check in checks/ (for CI)

    A failed check exits with status 1; results are recorded as check runs linked to the
    data version or model version they checked (see `keel check history`).
    """


def _finish(reports: list[CheckReport], as_json: bool, junit: Path | None, many: bool = False) -> None:
    if as_json:
        body: Any = [r.to_dict() for r in reports] if many else reports[0].to_dict()
        emit_json(body)
    else:
        for report in reports:
            _show(report)
    if junit is not None:
        from keel.checks.results import junit_xml
        from keel.core.errors import InvalidInput

        tmp = junit.with_name(f".{junit.name}.keel-tmp")
        try:
            junit.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(junit_xml(reports), encoding="utf-8")
            tmp.replace(junit)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise InvalidInput(
                f"Cannot write the JUnit report {junit} ({exc.strerror}); choose a writable path."
            ) from None
    if any(not r.passed for r in reports):
        sys.exit(1)


def _show(report: CheckReport) -> None:
    from keel.checks.results import sample_text
    from keel.cli.render import console, escape

    out = console()
    style = {"passed": "green", "warned": "yellow", "failed": "red"}[report.status]
    out.print(f"[{style}]{report.status.upper()}[/] {escape(report.summary())}")
    for result in report.results:
        if result.passed:
            continue
        mark = "[red]✗[/]" if result.severity == "fail" else "[yellow]![/]"
        out.print(f"  {mark} {escape(result.message)}")
        if result.samples:
            shown = ", ".join(sample_text(s) for s in result.samples)
            out.print(f"      [dim]{escape(shown)}[/]")
    if report.run_id:
        out.print(f"  [dim]recorded as check run {report.run_id[:12]}[/]")


@check.command("infer")
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Schema file to write (default checks/NAME.schema.yaml; '-' prints it).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing schema file.")
def infer(data: Path, output: Path | None, force: bool) -> None:
    """Infer an editable schema from DATA (CSV, TSV, Parquet, JSON lines, or a folder of them).

    The schema lists every column's type and nullability, numeric and date ranges, the
    categories of low-cardinality text columns, id-like unique columns, and a row-count
    band (half to twice the rows seen). Edit it, then `keel check data DATA --schema FILE`.
    """
    from keel.checks.data_api import find_workspace, infer_file

    workspace = find_workspace()
    _, text, rows = infer_file(data, workspace)
    if output is not None and str(output) == "-":
        click.echo(text, nl=False)
        return
    if output is None:
        base = workspace.root if workspace is not None else Path.cwd()
        stem = data.name.split(".")[0] or "data"
        output = base / "checks" / f"{stem}.schema.yaml"
    if output.exists() and not force:
        from keel.core.errors import Conflict

        raise Conflict(f"{output} exists; edit it, or pass --force to replace it with a new inference.")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.keel-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    shown = os.path.relpath(output)
    click.echo(
        f"Wrote {shown} ({rows:,} rows inferred). Edit it, then: keel check data {data} --schema {shown}"
    )


@check.command("data")
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--schema",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The schema file (from `keel check infer`).",
)
@junit_option
@no_record_option
@json_option
def data_cmd(data: Path, schema: Path, junit: Path | None, no_record: bool, as_json: bool) -> None:
    """Validate DATA against a schema: types, nulls, ranges, categories, uniqueness, row count.

    Each failure names the column, the rule, how many values failed (and what fraction),
    and sample rows with their values. Exits 1 when a rule with severity fail fails.
    """
    from keel.checks.data_api import check_data, find_workspace

    record = not no_record and find_workspace() is not None
    report = check_data(data, schema, record=record)
    _finish([report], as_json, junit)


@check.command("model")
@click.argument("ref")
@click.option(
    "--spec",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The model check spec (checks/NAME.model.yaml).",
)
@junit_option
@no_record_option
@json_option
def model_cmd(ref: str, spec: Path, junit: Path | None, no_record: bool, as_json: bool) -> None:
    """Evaluate model version REF (NAME/3, NAME@staging, NAME) against a spec's checks.

    Metric thresholds, a dummy baseline, no regression against an alias, slice metrics,
    invariance to noise, and expected cases, on the spec's evaluation data. The result is
    recorded against the version, which is what `keel models alias` checks for the aliases
    in the spec's required_for.
    """
    from keel.checks.model_check import check_model

    report = check_model(ref, spec, record=not no_record)
    _finish([report], as_json, junit)


@check.command("compare")
@click.argument("current", type=click.Path(path_type=Path))
@click.option(
    "--reference",
    required=True,
    type=click.Path(path_type=Path),
    help="The reference data (e.g. the training data) to compare with.",
)
@click.option(
    "--reference-rev",
    help="Read the reference as keel.lock recorded it at this git revision (a tracked file).",
)
@click.option(
    "--max-missing-increase",
    type=click.FloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Largest allowed rise of a column's null fraction.",
)
@click.option(
    "--max-out-of-range",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="Largest allowed fraction of numbers outside the reference's range.",
)
@click.option(
    "--max-new-categories",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Largest allowed fraction of values in categories the reference never had.",
)
@click.option(
    "--psi-threshold",
    type=click.FloatRange(0, None),
    default=0.2,
    show_default=True,
    help="Population stability index above which a column's distribution has shifted.",
)
@click.option("--columns", help="Compare only these columns (comma-separated).")
@click.option("--drift-fails", is_flag=True, help="A distribution shift fails the check (default: it warns).")
@junit_option
@no_record_option
@json_option
def compare_cmd(
    current: Path,
    reference: Path,
    reference_rev: str | None,
    max_missing_increase: float,
    max_out_of_range: float,
    max_new_categories: float,
    psi_threshold: float,
    columns: str | None,
    drift_fails: bool,
    junit: Path | None,
    no_record: bool,
    as_json: bool,
) -> None:
    """Compare CURRENT data (e.g. what the model is served) with REFERENCE data (what it
    was trained on): new categories, out-of-range values, missing-rate increases, missing
    or retyped columns, and distribution shifts (PSI over the reference's quantile bins)."""
    from keel.checks.compare import CompareOptions
    from keel.checks.compare_api import check_compare
    from keel.checks.data_api import find_workspace

    options = CompareOptions(
        max_missing_increase=max_missing_increase,
        max_out_of_range=max_out_of_range,
        max_new_categories=max_new_categories,
        psi_threshold=psi_threshold,
        columns=_column_list(columns),
    )
    record = not no_record and find_workspace() is not None
    report = check_compare(
        current,
        reference,
        options=options,
        drift_fails=drift_fails,
        record=record,
        reference_rev=reference_rev,
    )
    _finish([report], as_json, junit)


@check.command("all")
@junit_option
@no_record_option
@json_option
def all_cmd(junit: Path | None, no_record: bool, as_json: bool) -> None:
    """Run every check in checks/: each *.schema.yaml with a data: path, on that data, and
    each *.model.yaml on its model's newest version made by a run that finished (the CI
    step). A check that cannot run (missing data, no version yet) is reported as failed;
    the others still run."""
    from keel.checks.data_api import check_data
    from keel.checks.gate import CHECKS_DIR, newest_good_version
    from keel.checks.model_check import check_model
    from keel.checks.model_spec import load_model_spec
    from keel.checks.schema import load_schema
    from keel.core.errors import KeelError
    from keel.core.workspace import open_workspace

    workspace = open_workspace()
    folder = workspace.root / CHECKS_DIR
    reports: list[CheckReport] = []
    for path in sorted(folder.glob("*.schema.yaml")):
        spec = _label(path, workspace.root)
        try:
            schema = load_schema(path)
            if schema.data is None:
                continue
            reports.append(check_data(workspace.root / schema.data, schema, record=not no_record))
            reports[-1].spec = spec
        except KeelError as exc:
            reports.append(_error_report("data", spec, spec, exc))
    for path in sorted(folder.glob("*.model.yaml")):
        spec = _label(path, workspace.root)
        try:
            model = load_model_spec(path).model
            if model is None:
                continue
            ref = newest_good_version(model)
            reports.append(check_model(ref, path, record=not no_record))
        except KeelError as exc:
            reports.append(_error_report("model", spec, spec, exc))
    if not reports:
        click.echo(f"No checks to run in {folder} (add one with `keel check infer DATA`; docs/checks.md).")
        return
    _finish(reports, as_json, junit, many=True)


def _column_list(text: str | None) -> list[str] | None:
    from keel.core.errors import InvalidInput

    if text is None:
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise InvalidInput(
            "--columns names no column; give names separated by commas, e.g. --columns age,plan."
        )
    return names


def _label(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _error_report(kind: str, spec: str, subject: str, exc: Exception) -> CheckReport:
    """A check that could not run, as a failed report (so `check all` goes on and CI sees it)."""
    from keel.checks.results import CheckReport, RuleResult

    message = getattr(exc, "message", str(exc))
    return CheckReport(kind, spec, subject, results=[RuleResult("error", False, message)])


@check.command("history")
@click.argument("subject", required=False)
@click.option(
    "-n", "--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Rows to show."
)
@json_option
def history(subject: str | None, limit: int, as_json: bool) -> None:
    """Recorded check results, newest first (SUBJECT: a data path or NAME/VERSION)."""
    from datetime import UTC, datetime

    from keel.cli.render import console, escape, fmt_time, new_table, short_id
    from keel.core.workspace import open_workspace
    from keel.store.check_repo import list_results
    from keel.tracking.session import session_for_workspace

    workspace = open_workspace()
    session = session_for_workspace(workspace)
    if subject is not None and Path(subject).exists():  # a path, however it was written
        from keel.checks.data_api import subject_label

        subject = subject_label(Path(subject), workspace)
    elif subject is not None and "@" in subject:  # NAME@ALIAS: the version it points at now
        from keel.models.registry import get_model_version

        subject = get_model_version(subject, session=session).ref
    with session.db.read() as conn:
        found = list_results(conn, subject, limit)
    if as_json:
        emit_json([r.to_dict() for r in found])
        return
    table = new_table("when", "status", "kind", "subject", "spec", "failed", "warned", "run")
    for record in found:
        table.add_row(
            fmt_time(datetime.fromtimestamp(record.created_at, tz=UTC)),
            record.status,
            record.kind,
            escape(record.subject),
            escape(record.spec),
            str(record.failed),
            str(record.warned),
            short_id(record.run_id),
        )
    console().print(table)
