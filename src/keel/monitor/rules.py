"""Monitor rules in keel.yaml (``monitors:``): when to act on what monitoring measured.

::

    monitors:
      wine-quality:
        model: wine@production          # whose prediction log to watch
        since: 24h                      # the window evaluated (default 24h)
        reference: data/processed/train.csv   # default: the model's training data
        when:                           # fires when any condition holds
          - drift_share > 0.3
          - accuracy < 0.85             # needs feedback labels (POST /feedback)
          - missing_rate.alcohol > 0.1
        actions:
          - run: {params: {train.n_estimators: 120}, promote: true}   # or {force: true}
          - webhook: http://127.0.0.1:9000/keel
        cooldown: 6h                    # no action again within this time (default 1h)

A condition is ``METRIC OP NUMBER`` (OP: > >= < <= == !=) over the figures one evaluation
records: ``drift_share``, ``dataset_drift`` (1 or 0), ``drifted_columns``, ``rows``,
``drift.COLUMN`` (a column's score), ``missing_rate.COLUMN``, ``prediction_drift``, and the
performance metrics (``accuracy``, ``f1_macro``, … ``rmse``). Column names with spaces go
in backticks: ``missing_rate.`petal width (cm)` > 0.1``. A condition on a figure the
evaluation did not produce (no labels yet, say) does not fire and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from keel.core.errors import ConfigError
from keel.core.yaml_file import YamlDocument

MONITOR_KEYS = ("model", "since", "reference", "when", "actions", "cooldown")
OPERATORS = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_CONDITION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][\w.\-]*(?:`[^`]+`)?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Condition:
    metric: str  # backticks removed: "missing_rate.petal width (cm)"
    op: str
    number: float
    text: str

    def check(self, figures: dict[str, float]) -> bool | None:
        """True or False; None when the figure was not measured."""
        value = figures.get(self.metric)
        if value is None:
            return None
        return bool(OPERATORS[self.op](value, self.number))


@dataclass(frozen=True)
class Action:
    kind: str  # "run" or "webhook"
    params: dict[str, Any] = field(default_factory=dict)  # run: params overrides
    promote: bool = False  # run: move the monitored alias to the new version (after checks)
    force: bool = False  # run (without params): rerun every stage
    url: str = ""  # webhook


@dataclass(frozen=True)
class Monitor:
    name: str
    model: str  # NAME@ALIAS
    since: str
    reference: str | None
    when: tuple[Condition, ...]
    actions: tuple[Action, ...]
    cooldown: float  # seconds
    where: str


def parse_condition(text: Any, where: str) -> Condition:
    match = _CONDITION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"{where}: condition {text!r} is not METRIC OP NUMBER, e.g. drift_share > 0.3 or accuracy < 0.85"
        )
    return Condition(match["metric"].replace("`", ""), match["op"], float(match["number"]), text.strip())


def parse_monitors(doc: YamlDocument) -> list[Monitor]:
    from keel.core.durations import parse_duration
    from keel.core.errors import InvalidInput
    from keel.core.models import parse_model_ref

    section = doc.data.get("monitors") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{doc.where('monitors')}: 'monitors' maps monitor names to monitors")
    found = []
    for raw_name, body in section.items():
        name = str(raw_name)
        keys = ("monitors", name)

        def error(message: str, *more: str, keys: tuple[str, ...] = keys) -> ConfigError:
            return ConfigError(f"{doc.where(*keys, *more)}: {message}")

        if not _NAME.match(name):
            raise error(f"monitor name {name!r} may use letters, digits, '_', '.' and '-'")
        if not isinstance(body, dict):
            raise error("a monitor is a mapping with model, when and actions")
        unknown = [k for k in body if k not in MONITOR_KEYS]
        if unknown:
            raise error(
                f"unknown key '{unknown[0]}'; monitor keys: {', '.join(MONITOR_KEYS)}", str(unknown[0])
            )
        model = body.get("model")
        try:
            ref = parse_model_ref(model) if isinstance(model, str) else None
        except InvalidInput:
            ref = None
        if ref is None or ref.alias is None:
            raise error(f"'model' names a model by alias, e.g. wine@production (not {model!r})", "model")
        since = str(body.get("since", "24h"))
        cooldown_text = str(body.get("cooldown", "1h"))
        try:
            parse_duration(since, "since")
            cooldown = parse_duration(cooldown_text, "cooldown")
        except InvalidInput as exc:
            raise error(exc.message.rstrip(".")) from None
        reference = body.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise error("'reference' is a data path (default: the model's training data)", "reference")
        when_raw = body.get("when")
        if isinstance(when_raw, str):
            when_raw = [when_raw]
        if not isinstance(when_raw, list) or not when_raw:
            raise error("'when' is a condition or a list of them, e.g. drift_share > 0.3", "when")
        when = tuple(parse_condition(c, doc.where(*keys, "when", str(i))) for i, c in enumerate(when_raw))
        actions_raw = body.get("actions") or []
        if not isinstance(actions_raw, list):
            raise error("'actions' is a list: - run: {...} or - webhook: URL", "actions")
        actions = tuple(_action(a, doc, (*keys, "actions", str(i))) for i, a in enumerate(actions_raw))
        found.append(Monitor(name, str(model), since, reference, when, actions, cooldown, doc.where(*keys)))
    return found


def _action(raw: Any, doc: YamlDocument, keys: tuple[str, ...]) -> Action:
    where = doc.where(*keys)
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConfigError(
            f"{where}: an action is '- run: {{params: {{…}}, promote: true}}' or '- webhook: URL'"
        )
    ((kind, body),) = raw.items()
    if kind == "webhook":
        if not isinstance(body, str) or not re.match(r"^https?://", body):
            raise ConfigError(f"{where}: a webhook is an http:// or https:// URL, not {body!r}")
        return Action("webhook", url=body)
    if kind == "run":
        body = body or {}
        if not isinstance(body, dict) or set(body) - {"params", "promote", "force"}:
            raise ConfigError(
                f"{where}: 'run' takes params: {{key: value}}, force: true/false and promote: true/false"
            )
        params = body.get("params") or {}
        if not isinstance(params, dict):
            raise ConfigError(
                f"{where}: 'params' maps params.yaml keys to values, e.g. train.n_estimators: 120"
            )
        promote, force = body.get("promote", False), body.get("force", False)
        if not isinstance(promote, bool) or not isinstance(force, bool):
            raise ConfigError(f"{where}: 'promote' and 'force' are true or false")
        return Action("run", params={str(k): v for k, v in params.items()}, promote=promote, force=force)
    raise ConfigError(f"{where}: unknown action {kind!r}; actions are run and webhook")


def fired(monitor: Monitor, figures: dict[str, float]) -> tuple[bool, str]:
    """Whether any condition holds, and a one-line reason (what held, or why nothing did)."""
    held, unmeasured, quiet = [], [], []
    for condition in monitor.when:
        verdict = condition.check(figures)
        if verdict is None:
            unmeasured.append(condition.metric)
        elif verdict:
            held.append(f"{condition.text} ({condition.metric} = {figures[condition.metric]:.4g})")
        else:
            quiet.append(f"{condition.metric} = {figures[condition.metric]:.4g}")
    if held:
        return True, "; ".join(held)
    parts = []
    if quiet:
        parts.append("no condition holds: " + ", ".join(quiet))
    if unmeasured:
        parts.append("not measured: " + ", ".join(unmeasured))
    return False, "; ".join(parts) or "nothing measured"
