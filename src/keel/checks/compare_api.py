"""Train/serve checks from Python and the CLI: a current table against a reference one.

The reference is profiled once (:mod:`keel.checks.profile`) and the current table compared
with it (:mod:`keel.checks.compare`); each finding becomes a rule result of a ``compare``
check report. New categories, out-of-range values, a missing or retyped column and a rise
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
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    options: CompareOptions | None = None,
    reference_label: str = "<reference>",
    subject: str = "<current>",
    drift_fails: bool = False,
) -> CheckReport:
    """Compare ``current`` with ``reference`` (DataFrames); the report of every rule."""
    import time

    from keel.checks.compare import compare_to_profile
    from keel.checks.profile import profile_table

    started = time.perf_counter()
    findings = compare_to_profile(profile_table(reference), current, options=options)
    report = findings_report(findings, reference_label, subject, drift_fails=drift_fails)
    report.measured["rows"] = float(len(current))
    report.measured["reference_rows"] = float(len(reference))
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
    revision ``reference_rev``, when given); optionally record it."""
    from keel.checks.data_api import data_version, find_workspace, read_data, read_data_at, subject_label
    from keel.checks.record import SpecFile, record_report
    from keel.core.errors import InvalidInput
    from keel.core.hashing import hash_bytes

    workspace = find_workspace()
    current_path, reference_path = Path(current), Path(reference)
    ref_label = subject_label(reference_path, workspace)
    if reference_rev is not None:
        ref_label = f"{ref_label}@{reference_rev}"
    reference_frame = (
        read_data(reference_path) if reference_rev is None else read_data_at(reference_path, reference_rev)
    )
    report = compare_tables(
        reference_frame,
        read_data(current_path),
        options=options,
        reference_label=ref_label,
        subject=subject_label(current_path, workspace),
        drift_fails=drift_fails,
    )
    if record:
        if workspace is None:
            raise InvalidInput("Recording a check needs a Keel project (run inside one, or keel init).")
        dataset = data_version(workspace, current_path)
        if dataset is not None:
            report.subject_id = dataset.oid
        reference_version = data_version(workspace, reference_path)
        identity: Any = [
            ref_label,
            reference_version.oid if reference_version else None,
            repr(options),
            drift_fails,
        ]
        spec = SpecFile(f"compare:{ref_label}", hash_bytes(repr(identity).encode()))
        record_report(workspace, report, spec, dataset=dataset, tags={"keel.check.reference": ref_label})
    return report
