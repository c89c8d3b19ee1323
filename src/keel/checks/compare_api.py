"""Train/serve checks from Python and the CLI: a current table against a reference one.

The reference is summarized by its sketch (:mod:`keel.checks.sketch`) — inside a project
once per dataset version, then read from the cache monitoring uses too
(:mod:`keel.checks.sketch_cache`) — and the current table compared with it
(:mod:`keel.checks.compare`); each finding becomes a rule result of a ``compare`` check
report. New categories, out-of-range values, a missing or retyped column and a rise
in missing values fail the check; a distribution shift (PSI) warns unless
``drift_fails=True``, since a changed distribution needs a look rather than a stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.checks.results import CheckReport, RuleResult

if TYPE_CHECKING:
    import pandas as pd

    from keel.checks.compare import CompareOptions, Finding
    from keel.checks.sketch import TableSketch


def findings_report(
    findings: list[Finding], reference: str, subject: str, *, drift_fails: bool = False
) -> CheckReport:
    report = CheckReport("compare", reference, subject)
    for finding in findings:
        severity = "fail" if drift_fails or finding.rule != "distribution" else "warn"
        samples = [{"row": None, "value": v} for v in finding.to_dict()["samples"]]
        rule = finding.rule if finding.test is None else f"{finding.rule} ({finding.test})"
        report.results.append(
            RuleResult(
                rule,
                finding.passed,
                finding.message,
                finding.column,
                None,
                None,
                samples,
                severity,
                finding.value,
            )
        )
    return report


def compare_tables(
    reference: pd.DataFrame | TableSketch,
    current: pd.DataFrame,
    *,
    options: CompareOptions | None = None,
    reference_label: str = "<reference>",
    subject: str = "<current>",
    drift_fails: bool = False,
) -> CheckReport:
    """Compare ``current`` with ``reference`` (a DataFrame, or its sketch); the report of every rule."""
    import time

    from keel.checks.compare import compare_to_sketch
    from keel.checks.sketch import TableSketch, sketch_table

    started = time.perf_counter()
    sketch = reference if isinstance(reference, TableSketch) else sketch_table(reference)
    findings = compare_to_sketch(sketch, current, options=options)
    report = findings_report(findings, reference_label, subject, drift_fails=drift_fails)
    report.measured["rows"] = float(len(current))
    report.measured["reference_rows"] = float(sketch.rows)
    report.duration = time.perf_counter() - started
    return report


def check_compare(
    current: str | Path,
    reference: str | Path,
    *,
    options: CompareOptions | None = None,
    drift_fails: bool = False,
    record: bool = False,
    reference_rev: str | None = None,
) -> CheckReport:
    """Compare the table at ``current`` with the one at ``reference`` (as recorded at git
    revision ``reference_rev``, when given); optionally record it. Inside a project the
    reference's sketch is computed once per dataset version and cached."""
    import time

    from keel.checks.data_api import data_version, find_workspace, read_data, subject_label
    from keel.checks.record import SpecFile, record_report
    from keel.checks.sketch_cache import content_id, sketch_reference
    from keel.core.errors import InvalidInput
    from keel.core.hashing import hash_bytes

    workspace = find_workspace()
    current_path, reference_path = Path(current), Path(reference)
    ref_label = subject_label(reference_path, workspace)
    if reference_rev is not None:
        ref_label = f"{ref_label}@{reference_rev}"
    frame = read_data(current_path)
    started = time.perf_counter()
    session = None
    oid = content_id(workspace, reference_path, reference_rev) if workspace is not None else None
    if oid is not None and workspace is not None:
        from keel.tracking.session import session_for_workspace

        session = session_for_workspace(workspace)
    sketch = sketch_reference(reference_path, reference_rev, oid=oid, session=session)
    sketched = time.perf_counter() - started
    report = compare_tables(
        sketch,
        frame,
        options=options,
        reference_label=ref_label,
        subject=subject_label(current_path, workspace),
        drift_fails=drift_fails,
    )
    report.duration += sketched
    if record:
        if workspace is None:
            raise InvalidInput("Recording a check needs a Keel project (run inside one, or keel init).")
        dataset = data_version(workspace, current_path)
        if dataset is not None:
            report.subject_id = dataset.oid
        identity: Any = [ref_label, oid, repr(options), drift_fails]
        spec = SpecFile(f"compare:{ref_label}", hash_bytes(repr(identity).encode()))
        record_report(workspace, report, spec, dataset=dataset, tags={"keel.check.reference": ref_label})
    return report
