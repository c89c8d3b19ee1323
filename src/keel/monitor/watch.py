"""Continuous training: evaluate the monitors of keel.yaml and act when a rule fires.

``run_monitors`` evaluates each monitor once (``keel monitor run``, cron-able); ``watch``
repeats it (``keel monitor watch --every 10m``). Each evaluation is a monitor run, and each
decision — quiet, fired and acted, fired but cooling down, dry run, failed — is recorded in
``monitor_events`` with its reason. Actions:

- ``run``: retrain. With ``params`` the pipeline runs in a scratch copy with those values
  (like ``keel run --set``), leaving the workspace as it is; without, ``keel run`` runs in
  the workspace (``force: true`` reruns every stage). Stage checks still gate it. With
  ``promote: true`` the newest version the run registered moves to the monitored alias
  through the promotion gate, so a model whose checks failed never ships.
- ``webhook``: POST the decision as JSON (monitor, model, reason, figures, run id).

A monitor that fired and acted does not act again within its ``cooldown``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keel.core.errors import KeelError

if TYPE_CHECKING:
    from keel.core.workspace import Workspace
    from keel.monitor.rules import Action, Monitor
    from keel.tracking.session import Session

WEBHOOK_TIMEOUT = 10.0


@dataclass
class Decision:
    monitor: str
    model: str
    fired: bool
    outcome: str  # quiet, acted, cooldown, dry-run, failed, error
    reason: str
    run_id: str | None = None
    actions: list[str] = field(default_factory=list)  # what each action did
    figures: dict[str, float] = field(default_factory=dict)
    promoted: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_monitors(workspace: Workspace, names: list[str] | None = None) -> list[Monitor]:
    from keel.core.errors import NotFound
    from keel.core.workspace import PROJECT_FILE
    from keel.core.yaml_file import load_yaml_mapping
    from keel.monitor.rules import parse_monitors

    monitors = parse_monitors(load_yaml_mapping(workspace.root / PROJECT_FILE))
    if names:
        known = {m.name for m in monitors}
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none (add monitors: to keel.yaml)"
            raise NotFound(f"No monitor {unknown[0]!r} in keel.yaml; monitors: {listed}.")
        monitors = [m for m in monitors if m.name in names]
    return monitors


def run_monitors(
    workspace: Workspace,
    names: list[str] | None = None,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] | None = None,
) -> list[Decision]:
    """Evaluate each monitor once and act on those that fire."""
    from keel.tracking.session import session_for_workspace

    monitors = load_monitors(workspace, names)
    session = session_for_workspace(workspace)
    return [_decide(workspace, session, monitor, dry_run, say or (lambda _: None)) for monitor in monitors]


def _decide(
    workspace: Workspace, session: Session, monitor: Monitor, dry_run: bool, say: Callable[[str], None]
) -> Decision:
    from keel.monitor.api import monitor_model, record_monitor
    from keel.monitor.rules import fired
    from keel.store.monitor_repo import MonitorEvent, add_event, last_action

    try:
        report, version = monitor_model(
            workspace, monitor.model, since=monitor.since, reference=monitor.reference, session=session
        )
    except KeelError as exc:
        decision = Decision(monitor.name, monitor.model, False, "error", exc.message)
        add_event(
            session.db, MonitorEvent(monitor.name, time.time(), False, None, "error", exc.message, None)
        )
        return decision
    run_id = record_monitor(
        workspace,
        report,
        params={"monitor.name": monitor.name, "monitor.model": monitor.model, "monitor.since": monitor.since},
        tags={
            "keel.monitor.name": monitor.name,
            "keel.monitor.model_name": version.name,
            "keel.monitor.version": version.version,
        },
        session=session,
    )
    figures = report.figures()
    hit, reason = fired(monitor, figures)
    decision = Decision(monitor.name, monitor.model, hit, "quiet", reason, run_id, figures=figures)
    if hit:
        with session.db.read() as conn:
            previous = last_action(conn, monitor.name)
        if dry_run:
            decision.outcome = "dry-run"
        elif previous is not None and time.time() - previous.at < monitor.cooldown:
            decision.outcome = "cooldown"
            wait = monitor.cooldown - (time.time() - previous.at)
            decision.actions.append(
                f"cooling down: last acted {time.time() - previous.at:.0f} s ago, {wait:.0f} s to go"
            )
        else:
            say(f"{monitor.name}: fired ({reason})")
            decision.outcome = "acted"
            for action in monitor.actions:
                ok, what = _act(workspace, session, monitor, action, decision)
                decision.actions.append(what)
                say(f"{monitor.name}: {what}")
                if not ok:
                    decision.outcome = "failed"
                    break
    action_names = ",".join(a.kind for a in monitor.actions) or None
    detail = reason if not decision.actions else f"{reason} → {'; '.join(decision.actions)}"
    add_event(
        session.db,
        MonitorEvent(
            monitor.name, time.time(), hit, action_names if hit else None, decision.outcome, detail, run_id
        ),
    )
    return decision


def _act(
    workspace: Workspace, session: Session, monitor: Monitor, action: Action, decision: Decision
) -> tuple[bool, str]:
    if action.kind == "webhook":
        return _webhook(action.url, decision)
    return _retrain(workspace, session, monitor, action, decision)


def _retrain(
    workspace: Workspace, session: Session, monitor: Monitor, action: Action, decision: Decision
) -> tuple[bool, str]:
    from keel.checks.gate import promote
    from keel.core.errors import Conflict
    from keel.core.models import parse_model_ref
    from keel.models.registry import list_versions
    from keel.monitor.api import MONITOR_EXPERIMENT

    ref = parse_model_ref(monitor.model)
    try:
        if action.params:
            from keel.pipeline.sweep import run_sweep

            sweep = run_sweep(
                workspace, {k: [v] for k, v in action.params.items()}, experiment=MONITOR_EXPERIMENT
            )
            stages = [report for point in sweep.points for report in point.stages.values()]
        else:
            from keel.pipeline.runner import run_pipeline

            result = run_pipeline(workspace, experiment=MONITOR_EXPERIMENT, force=action.force)
            stages = list(result.stages.values())
    except KeelError as exc:
        return False, f"retraining could not start: {exc.message}"
    failed = [s for s in stages if s.state == "failed"]
    if failed:
        return False, f"retraining failed at {failed[0].name}: {failed[0].reason}"
    runs = {s.run_id for s in stages if s.run_id}
    name = str(ref.name)
    mine = [v.version for v in list_versions(name, session=session) if v.run_id in runs]
    if not mine:
        return True, "retrained: the pipeline registered no new version (nothing changed)"
    newest = max(mine)
    if not action.promote:
        return True, f"retrained: {name}/{newest}"
    try:
        promote(
            name,
            newest,
            str(ref.alias),
            reason=f"monitor {monitor.name}: {decision.reason}",
            session=session,
        )
    except Conflict as exc:
        return False, f"retrained {name}/{newest}, not promoted: {exc.message}"
    decision.promoted = newest
    return True, f"retrained and promoted {name}/{newest} to {ref.alias}"


def _webhook(url: str, decision: Decision) -> tuple[bool, str]:
    import urllib.error
    import urllib.request

    body = json.dumps(
        {
            "monitor": decision.monitor,
            "model": decision.model,
            "reason": decision.reason,
            "run_id": decision.run_id,
            "figures": decision.figures,
        },
        default=str,
    ).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        return False, f"webhook {url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"webhook {url} failed: {reason}"
    return True, f"webhook {url} answered {status}"


def watch(
    workspace: Workspace,
    every: float,
    *,
    names: list[str] | None = None,
    times: int | None = None,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the monitors every ``every`` seconds (``times`` rounds, or until interrupted)."""
    rounds = 0
    while times is None or rounds < times:
        for decision in run_monitors(workspace, names, say=say):
            say(f"{decision.monitor}: {decision.outcome} — {decision.reason}")
        rounds += 1
        if times is not None and rounds >= times:
            break
        sleep(every)
    return rounds
