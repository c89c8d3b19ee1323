"""Model check specs (``checks/NAME.model.yaml``): what a model version must do before it ships.

::

    format: 1
    model: wine                      # the registered model these checks are for
    required_for: [production]       # aliases that refuse a version without a passing run
    data: data/processed/test.csv    # the evaluation data (its version is recorded)
    label: target                    # the column holding the true answer
    severity: fail                   # default for every check: fail or warn
    checks:
      - metric: f1_macro             # a threshold
        min: 0.90
      - baseline: most_frequent      # beats a dummy model on a metric
        metric: accuracy
      - against: production          # no regression against the version holding an alias
        metric: f1_macro
        tolerance: 0.01
      - where: "alcohol > 13"        # a slice of the data (pandas query syntax)
        metric: recall_macro
        min: 0.8
      - perturb: {column: alcohol, noise: 0.01}   # invariance to small noise
        max_changed: 0.05
      - cases:                       # minimum functionality: given inputs, expected outputs
          - input: {alcohol: 14.2, ...}
            expect: 0

Every error names the file, the line and the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.checks.metrics import BASELINES, CLASSIFIER_BASELINES, METRICS
from keel.checks.results import SEVERITIES
from keel.core.errors import ConfigError
from keel.core.models import ALIAS, MODEL_NAME
from keel.core.yaml_file import YamlDocument, load_yaml_mapping

FORMAT = 1
SPEC_KEYS = ("format", "model", "required_for", "data", "label", "severity", "checks")
#: The keys that say what kind of check an entry is, and the keys each kind takes.
KINDS: dict[str, tuple[str, ...]] = {
    "metric": ("metric", "min", "max"),
    "baseline": ("baseline", "metric", "margin"),
    "against": ("against", "metric", "tolerance"),
    "where": ("where", "metric", "min", "max"),
    "perturb": ("perturb", "max_changed", "seed"),
    "cases": ("cases", "tolerance"),
}
COMMON_KEYS = ("name", "severity")


@dataclass(frozen=True)
class ModelCheck:
    kind: str  # metric, baseline, against, where, perturb, cases
    options: dict[str, Any]
    severity: str
    name: str
    where: str  # file:line


@dataclass(frozen=True)
class ModelSpec:
    model: str | None
    required_for: tuple[str, ...]
    data: str
    label: str
    checks: tuple[ModelCheck, ...]
    source: str


def load_model_spec(path: Path) -> ModelSpec:
    return parse_model_spec(load_yaml_mapping(path))


def parse_model_spec(doc: YamlDocument) -> ModelSpec:
    data = doc.data

    def error(keys: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{doc.where(*keys)}: {message}")

    unknown = [k for k in data if k not in SPEC_KEYS]
    if unknown:
        raise error((str(unknown[0]),), f"unknown key '{unknown[0]}'; spec keys: {', '.join(SPEC_KEYS)}")
    if data.get("format", FORMAT) != FORMAT:
        raise error(
            ("format",), f"format {data.get('format')!r} is not one this Keel reads (format: {FORMAT})"
        )
    model = data.get("model")
    if model is not None and (not isinstance(model, str) or not MODEL_NAME.match(model)):
        raise error(("model",), f"model {model!r} is not a registered model's name")
    required = data.get("required_for") or []
    if isinstance(required, str):
        required = [required]
    if not isinstance(required, list) or not all(isinstance(a, str) and ALIAS.match(a) for a in required):
        raise error(("required_for",), "'required_for' lists alias names, e.g. [production]")
    if required and model is None:
        raise error(("required_for",), "'required_for' needs 'model:' naming the model it guards")
    for key in ("data", "label"):
        if not isinstance(data.get(key), str) or not data[key]:
            example = "data/processed/test.csv" if key == "data" else "target"
            raise error((key,), f"'{key}' is required, e.g. {key}: {example}")
    severity = data.get("severity", "fail")
    if severity not in SEVERITIES:
        raise error(("severity",), f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    entries = data.get("checks")
    if not isinstance(entries, list) or not entries:
        raise error(("checks",), "'checks' is a list of checks, e.g. - {metric: accuracy, min: 0.9}")
    checks = tuple(_check(entry, ("checks", str(i)), severity, doc, error) for i, entry in enumerate(entries))
    return ModelSpec(model, tuple(required), data["data"], data["label"], checks, str(doc.path))


def _check(entry: Any, keys: tuple[str, ...], severity: str, doc: YamlDocument, error: Any) -> ModelCheck:
    if not isinstance(entry, dict):
        raise error(keys, "each check is a mapping, e.g. {metric: accuracy, min: 0.9}")
    kinds = [k for k in KINDS if k in entry and k != "metric"] or (["metric"] if "metric" in entry else [])
    if len(kinds) != 1:
        names = ", ".join(KINDS)
        raise error(keys, f"a check has exactly one of {names} (found {', '.join(kinds) or 'none'})")
    kind = kinds[0]
    allowed = (*KINDS[kind], *COMMON_KEYS)
    unknown = [k for k in entry if k not in allowed]
    if unknown:
        raise error(
            (*keys, str(unknown[0])),
            f"'{unknown[0]}' does not go with '{kind}'; allowed: {', '.join(allowed)}",
        )
    options = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    check_severity = entry.get("severity", severity)
    if check_severity not in SEVERITIES:
        raise error((*keys, "severity"), f"severity {check_severity!r} is not one of {', '.join(SEVERITIES)}")

    def number(key: str, low: float | None = None, high: float | None = None) -> None:
        value = options.get(key)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise error((*keys, key), f"{key} is a number, not {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise error((*keys, key), f"{key} {value} is outside {low}–{high}")

    if kind in ("metric", "baseline", "against", "where"):
        metric = options.get("metric")
        if metric not in METRICS:
            raise error((*keys, "metric"), f"metric {metric!r} is not one of {', '.join(METRICS)}")
    if kind in ("metric", "where"):
        low, high = options.get("min"), options.get("max")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            raise error((*keys, "min"), f"min {low} is above max {high}: the check could never pass")
        if options.get("min") is None and options.get("max") is None:
            raise error(
                keys, f"a {kind} check needs min: or max:, e.g. {{metric: {options.get('metric')}, min: 0.9}}"
            )
        number("min")
        number("max")
    if kind == "where" and (not isinstance(options["where"], str) or not options["where"].strip()):
        raise error((*keys, "where"), "'where' is a condition on columns, e.g. \"age < 30\"")
    if kind == "baseline":
        if options["baseline"] not in BASELINES:
            raise error(
                (*keys, "baseline"), f"baseline {options['baseline']!r} is not one of {', '.join(BASELINES)}"
            )
        task = METRICS[options["metric"]].task
        if (options["baseline"] in CLASSIFIER_BASELINES) != (task == "classification"):
            raise error(
                (*keys, "baseline"),
                f"baseline {options['baseline']!r} does not go with the {task} metric {options['metric']}",
            )
        number("margin", 0)
    if kind == "against":
        alias = options["against"]
        if not isinstance(alias, str) or not ALIAS.match(alias) or alias == "latest":
            raise error(
                (*keys, "against"),
                f"'against' names an alias, e.g. production, not {alias!r} ('latest' is reserved)",
            )
        number("tolerance", 0)
    if kind == "perturb":
        perturb = options["perturb"]
        if (
            not isinstance(perturb, dict)
            or not isinstance(perturb.get("column"), str)
            or set(perturb)
            - {
                "column",
                "noise",
            }
        ):
            raise error(
                (*keys, "perturb"), "'perturb' is {column: NAME, noise: 0.01} (noise × the column's std)"
            )
        noise = perturb.get("noise", 0.01)
        if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 < noise <= 10:
            raise error((*keys, "perturb", "noise"), f"noise is a number in (0, 10], not {noise!r}")
        number("max_changed", 0, 1)
        seed = options.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise error((*keys, "seed"), "seed is a whole number")
    if kind == "cases":
        cases = options["cases"]
        if not isinstance(cases, list) or not cases:
            raise error((*keys, "cases"), "'cases' is a list of {input: {column: value, …}, expect: value}")
        for index, case in enumerate(cases):
            where = (*keys, "cases", str(index))
            if (
                not isinstance(case, dict)
                or set(case) != {"input", "expect"}
                or not isinstance(case["input"], dict)
            ):
                raise error(where, "each case is {input: {column: value, …}, expect: value}")
        number("tolerance", 0)
    name = entry.get("name") or _default_name(kind, options)
    return ModelCheck(kind, options, check_severity, str(name), doc.where(*keys))


def _default_name(kind: str, options: dict[str, Any]) -> str:
    bounds = " ".join(
        f"{'≥' if k == 'min' else '≤'} {options[k]}" for k in ("min", "max") if options.get(k) is not None
    )
    if kind == "metric":
        return f"{options['metric']} {bounds}"
    if kind == "baseline":
        return f"{options['metric']} beats the {options['baseline']} baseline"
    if kind == "against":
        return f"{options['metric']} no worse than @{options['against']}"
    if kind == "where":
        return f"{options['metric']} {bounds} where {options['where']}"
    if kind == "perturb":
        return f"invariant to noise on {options['perturb']['column']}"
    return f"{len(options['cases'])} expected cases"
