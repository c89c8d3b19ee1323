"""What a check found: one result per rule, a report per check, and JUnit XML for CI.

A rule that fails with severity ``fail`` fails the check; with ``warn`` it is reported and
the check still passes ("warned"). Every result carries what CI and people need to act on
it: the column, the rule, how many values failed out of how many, and a few samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SEVERITIES = ("fail", "warn")
#: Failing values shown per rule.
SAMPLES = 5


@dataclass
class RuleResult:
    rule: str
    passed: bool
    message: str
    column: str | None = None
    failing: int | None = None
    total: int | None = None
    #: up to SAMPLES ``{"row": position, "value": value}`` (data) or cases (model)
    samples: list[dict[str, Any]] = field(default_factory=list)
    severity: str = "fail"
    #: the value measured (a metric, a fraction) when the rule compares one
    value: float | None = None
    #: a name for the rule in reports (model checks: "f1_macro ≥ 0.9"); default column: rule
    label: str | None = None

    @property
    def fraction(self) -> float | None:
        if self.failing is None or not self.total:
            return None
        return self.failing / self.total

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"{self.column}: {self.rule}" if self.column else self.rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "column": self.column,
            "passed": self.passed,
            "severity": self.severity,
            "message": self.message,
            "failing": self.failing,
            "total": self.total,
            "fraction": finite_or_none(self.fraction),
            "value": finite_or_none(self.value),
            "samples": self.samples,
        }


@dataclass
class CheckReport:
    kind: str  # "data", "model" or "compare"
    spec: str  # the schema or spec file
    subject: str  # the data path or model reference checked
    subject_id: str | None = None  # the dataset version (tree/object id) or model package id
    results: list[RuleResult] = field(default_factory=list)
    #: figures the check measured (model metrics, row counts)
    measured: dict[str, float] = field(default_factory=dict)
    duration: float = 0.0
    run_id: str | None = None

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed and r.severity == "fail"]

    @property
    def warnings(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed and r.severity == "warn"]

    @property
    def status(self) -> str:
        if self.failures:
            return "failed"
        return "warned" if self.warnings else "passed"

    @property
    def passed(self) -> bool:
        return self.status != "failed"

    def summary(self) -> str:
        """One line: what was checked and how it went."""
        head = f"{self.kind} check {self.spec} on {self.subject}: {self.status}"
        counts = f"{len(self.results)} rules, {len(self.failures)} failed, {len(self.warnings)} warned"
        return f"{head} ({counts})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "spec": self.spec,
            "subject": self.subject,
            "subject_id": self.subject_id,
            "status": self.status,
            "passed": self.passed,
            "rules": len(self.results),
            "failed": len(self.failures),
            "warned": len(self.warnings),
            "measured": {k: finite_or_none(v) for k, v in self.measured.items()},
            "duration": round(self.duration, 4),
            "run_id": self.run_id,
            "results": [r.to_dict() for r in self.results],
        }


def sample_text(sample: dict[str, Any]) -> str:
    """``row 3: 99.0`` (or just the value, when no row is known), and what was expected."""
    text = repr(sample.get("value"))
    if sample.get("row") is not None:
        text = f"row {sample['row']}: {text}"
    if "expected" in sample:
        text += f" (expected {sample['expected']!r})"
    return text


def _xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 cannot hold."""
    return "".join(c if c in "\t\n\r" or ord(c) >= 0x20 else "\ufffd" for c in text)


def finite_or_none(value: float | None) -> float | None:
    """``value`` as a float, or None when it is missing, NaN or infinite (JSON has neither)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def junit_xml(reports: list[CheckReport]) -> str:
    """JUnit XML: a test suite per check, a test case per rule (warnings are skipped cases)."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="keel checks")
    total = failed = 0
    for report in reports:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"keel {report.kind} check {report.spec} on {report.subject}",
            tests=str(len(report.results)),
            failures=str(len(report.failures)),
            skipped=str(len(report.warnings)),
            errors="0",
            time=f"{report.duration:.3f}",
        )
        for result in report.results:
            case = ET.SubElement(
                suite, "testcase", classname=f"{report.kind}.{report.spec}", name=result.name
            )
            if result.passed:
                continue
            detail = "\n".join(sample_text(s) for s in result.samples)
            if result.severity == "warn":
                ET.SubElement(case, "skipped", message=f"warning: {result.message}")
            else:
                failure = ET.SubElement(case, "failure", message=result.message, type=result.rule)
                failure.text = detail or result.message
        total += len(report.results)
        failed += len(report.failures)
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    for element in suites.iter():
        element.attrib = {k: _xml_text(v) for k, v in element.attrib.items()}
        if element.text:
            element.text = _xml_text(element.text)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
