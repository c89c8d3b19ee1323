"""``keel reproduce RUN``: make a recorded run again and say whether the result is the same.

1. **Code**: a scratch git worktree at the run's commit, with its recorded uncommitted diff
   applied (untracked files were never recorded: the report says how many there were).
2. **Data**: every input the run recorded is put in place by content id — from the local
   object store, else the default remote; a file the worktree already holds with that id
   (code) is left as it is.
3. **Params and seeds**: a stage reruns with its recorded params (as ``keel run --set``
   would pass them); the recorded ``PYTHONHASHSEED`` and other captured variables are set
   again; ``keel.seed`` in the code seeds as before.
4. **Environment**: recorded and current package versions are compared and the differences
   listed; ``env="venv"`` first builds a virtualenv with the recorded versions.
5. **Run**: a pipeline stage's command (from keel.yaml at that commit), a ``keel track``
   command, or a script run, as a new run tagged ``keel.reproduces`` = the original.
6. **Compare**: outputs by content id, metrics within ``rtol``/``atol``. Verdict:
   ``identical`` (same ids, same metrics), ``within tolerance`` (metrics within tolerance),
   or ``differs``. ``twice=True`` reproduces it twice and compares the two, to tell
   non-determinism now from a changed environment.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from keel.core.entities import Run
    from keel.core.workspace import Workspace
    from keel.tracking.session import Session

IDENTICAL = "identical"
WITHIN = "within tolerance"
DIFFERS = "differs"
REPRODUCES_TAG = "keel.reproduces"


@dataclass
class Item:
    name: str  # an output path or a metric key
    kind: str  # "output" or "metric"
    original: Any
    reproduced: Any
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ReproReport:
    run_id: str
    verdict: str = DIFFERS
    items: list[Item] = field(default_factory=list)
    #: what could not be restored, or is worth knowing, and why
    notes: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # recorded → current differences
    reproductions: list[str] = field(default_factory=list)  # the new runs
    seeded: bool = False
    #: with twice=True: whether the two reproductions agreed, and on what not
    deterministic: bool | None = None
    disagreements: list[str] = field(default_factory=list)
    workdir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body = dict(self.__dict__)
        body["items"] = [i.to_dict() for i in self.items]
        return body


def reproduce(
    workspace: Workspace,
    run_ref: str,
    *,
    env: str = "current",
    rtol: float = 1e-6,
    atol: float = 0.0,
    keep: bool = False,
    twice: bool = False,
    say: Callable[[str], None] | None = None,
) -> ReproReport:
    """Reproduce run ``run_ref`` (see the module)."""
    from keel.tracking.queries import get_run
    from keel.tracking.session import session_for_workspace

    if env not in ("current", "venv"):
        raise InvalidInput(f"--env {env!r}: use current (this environment) or venv (a fresh one).")
    if rtol < 0 or atol < 0:
        raise InvalidInput("--rtol and --atol are tolerances: zero or more.")
    say = say or (lambda _: None)
    session = session_for_workspace(workspace)
    run = get_run(run_ref, session=session)
    if run.status == "running":
        raise InvalidInput(f"Run {run.id[:12]} is still running; reproduce it once it has ended.")
    report = ReproReport(run.id, seeded=bool(run.tags.get("keel.seed")))
    plan = _plan(run, workspace.root)
    scratch = Path(tempfile.mkdtemp(prefix="keel-reproduce-"))
    code = scratch / "code"
    try:
        _restore_code(workspace, run, code, report, say)
        python = _environment(run, session, scratch, env, report, say)
        code_ws = _code_workspace(workspace, code)
        _restore_inputs(workspace, code_ws, run, report, say)
        runs = []
        for attempt in range(2 if twice else 1):
            say(f"running {'again ' if attempt else ''}({plan.describe()})")
            runs.append(_rerun(workspace, session, code_ws, run, plan, python, report))
        for item in _compare(session, run, runs[0], plan, rtol, atol):
            report.items.append(item)
        report.verdict = _verdict(report.items)
        if twice:
            second = _compare(session, runs[0], runs[1], plan, rtol, atol)
            report.disagreements = [
                f"{i.kind} {i.name}: {i.original} vs {i.reproduced}" for i in second if i.verdict == DIFFERS
            ]
            report.deterministic = not report.disagreements
            if not report.deterministic:
                cause = (
                    "the run recorded no keel.seed: unseeded randomness is the likely cause"
                    if not report.seeded
                    else "it was seeded (keel.seed): look for threads, time or unordered iteration"
                )
                report.notes.append(
                    f"two reproductions made now disagree, so the run is not deterministic; {cause}"
                )
        elif report.verdict == DIFFERS and not report.seeded:
            report.notes.append(
                "the run recorded no keel.seed: if it uses randomness, that alone can explain a difference "
                "(--twice tells)"
            )
        _tag_verdict(session, report)
    finally:
        _remove_worktree(workspace, code)
        if keep:
            report.workdir = str(scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return report


# -- what to run -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    kind: str  # "stage", "command", "script"
    stage: str | None = None
    argv: list[str] = field(default_factory=list)
    cwd: str = ""  # relative to the project root

    def describe(self) -> str:
        return f"stage {self.stage}" if self.kind == "stage" else " ".join(self.argv)


def _plan(run: Run, root: Path) -> _Plan:
    context = run.context
    command = [str(c) for c in context.get("command") or []]
    if run.kind == "stage":
        return _Plan("stage", stage=run.tags.get("keel.stage") or run.name)
    if run.kind == "command" and command:
        return _Plan("command", argv=command, cwd=_relative_cwd(context, root))
    if run.kind == "run" and command and command[0].endswith(".py"):
        return _Plan("script", argv=[sys.executable, *command], cwd=_relative_cwd(context, root))
    raise InvalidInput(
        f"Run {run.id[:12]} is a {run.kind!r} run; Keel reproduces pipeline stage runs, `keel track` "
        "commands and Python script runs (for a pipeline or sweep, reproduce its stage runs)."
    )


def _relative_cwd(context: dict[str, Any], root: Path) -> str:
    """Where the command ran, relative to the project (its root when outside it)."""
    cwd = Path(context.get("cwd") or root)
    try:
        relative = cwd.relative_to(root).as_posix()
        return "" if relative == "." else relative
    except ValueError:
        return ""


# -- restoring ------------------------------------------------------------------------------------


def _git(root: Path, *args: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, input=input_bytes, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InvalidInput(f"git could not run ({exc}); reproducing needs git.") from None


def _restore_code(
    workspace: Workspace, run: Run, code: Path, report: ReproReport, say: Callable[[str], None]
) -> None:
    git = run.context.get("git") or {}
    if not git.get("available") or not git.get("commit"):
        note = git.get("note") or "no git commit was recorded"
        raise InvalidInput(
            f"Run {run.id[:12]} was not made from a git commit ({note}), so its code cannot be restored; "
            "commit the project and record a new run."
        )
    commit = str(git["commit"])
    if _git(workspace.root, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise NotFound(
            f"Commit {commit[:12]} of run {run.id[:12]} is not in this repository; fetch it (git fetch) first."
        )
    added = _git(workspace.root, "worktree", "add", "--detach", str(code), commit)
    if added.returncode != 0:
        raise InvalidInput(f"git worktree add failed: {added.stderr.decode(errors='replace').strip()}")
    say(f"code: commit {commit[:12]} in a scratch worktree")
    from keel.tracking.session import session_for_workspace

    objects = session_for_workspace(workspace).objects
    diff = git.get("diff")
    if diff:
        if not objects.exists(diff):
            report.notes.append(f"the uncommitted diff ({diff[:12]}) is not in the object store: not applied")
        else:
            applied = _git(
                code, "apply", "--binary", "--whitespace=nowarn", input_bytes=objects.read_bytes(diff)
            )
            if applied.returncode != 0:
                report.notes.append(
                    f"the recorded diff did not apply: {applied.stderr.decode(errors='replace').strip()}"
                )
            else:
                say(f"code: applied the recorded uncommitted diff ({git.get('diff_bytes')} bytes)")
    elif git.get("diff_note"):
        report.notes.append(f"code: {git['diff_note']}; the reproduction runs the committed code")
    if git.get("untracked_count"):
        report.notes.append(
            f"{git['untracked_count']} untracked file(s) existed when the run was made; they were not recorded "
            "(commit them or track them with keel data add)"
        )


def _code_workspace(workspace: Workspace, code: Path) -> Workspace:
    """The worktree as a workspace that uses the project's metadata and object stores."""
    from keel.core.workspace import PROJECT_FILE, load_workspace

    if not (code / PROJECT_FILE).is_file():
        raise InvalidInput(f"The commit has no {PROJECT_FILE}; it predates the Keel project.")
    env = {**os.environ, "KEEL_DB_URL": workspace.db_url, "KEEL_OBJECTS_DIR": str(workspace.objects_dir)}
    return load_workspace(code, env)


def _restore_inputs(
    workspace: Workspace, code_ws: Workspace, run: Run, report: ReproReport, say: Callable[[str], None]
) -> None:
    from keel.core.errors import KeelError
    from keel.data.add import snapshot_path
    from keel.data.checkout import checkout_path, missing_objects
    from keel.data.context import open_data
    from keel.data.lockfile import TrackedPath

    ctx = open_data(workspace=code_ws)
    try:
        for dataset in run.inputs:
            target = code_ws.root / dataset.path
            if target.exists():
                try:
                    if snapshot_path(ctx, dataset.path, store=False).oid == dataset.oid:
                        continue  # the worktree holds it already (code, committed data)
                except KeelError:
                    pass
            tracked = TrackedPath(dataset.path, dataset.oid, dataset.kind, dataset.size, dataset.files)
            try:
                if missing_objects(ctx, tracked):
                    _fetch(workspace, ctx, tracked)
                checkout_path(ctx, tracked, force=True)
                say(f"data: {dataset.path} ({dataset.oid[:12]})")
            except KeelError as exc:
                report.notes.append(
                    f"input {dataset.path} ({dataset.oid[:12]}) could not be restored: {exc.message}"
                )
    finally:
        ctx.close()


def _fetch(workspace: Workspace, ctx: Any, tracked: Any) -> None:
    from keel.data.remotes import connect
    from keel.data.transfer import fetch

    try:
        remote = connect(workspace)
    except NotFound:
        raise NotFound(
            "it is not in the local object store and no remote is configured (keel remote add)"
        ) from None
    fetch(ctx, remote, [tracked])


def _environment(
    run: Run, session: Session, scratch: Path, env: str, report: ReproReport, say: Callable[[str], None]
) -> str:
    """The Python to run with; the recorded → current package differences go in the report."""
    from keel.repro.environment import packages_of
    from keel.tracking.context import installed_distributions

    recorded = packages_of(run, session)
    if recorded is None:
        report.notes.append("the run recorded no package list: the environment cannot be compared")
        return sys.executable
    current = dict(line.split("==", 1) for line in installed_distributions() if "==" in line)
    for name in sorted(set(recorded) | set(current)):
        was, now = recorded.get(name), current.get(name)
        if was != now:
            report.packages.append(f"{name}: {was or '(absent)'} → {now or '(absent)'}")
    if env == "current":
        if report.packages:
            say(
                f"environment: {len(report.packages)} package(s) differ from the recorded ones (--env venv rebuilds them)"
            )
        return sys.executable
    venv = scratch / "venv"
    say(f"environment: building a virtualenv with the {len(recorded)} recorded packages")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    pins = [f"{name}=={version}" for name, version in recorded.items() if name != "keel"]
    requirements = scratch / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n", encoding="utf-8")
    done = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "-r", str(requirements)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise InvalidInput(
            f"The recorded packages could not be installed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
        )
    keel_source = Path(__file__).resolve().parents[3]
    if (keel_source / "pyproject.toml").is_file():
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--no-deps", str(keel_source)], check=False
        )
    report.packages = []  # the venv has the recorded versions
    return python


def _remove_worktree(workspace: Workspace, code: Path) -> None:
    if code.exists():
        _git(workspace.root, "worktree", "remove", "--force", str(code))
    _git(workspace.root, "worktree", "prune")


# -- running ----------------------------------------------------------------------------------------


def _rerun(
    workspace: Workspace,
    session: Session,
    code_ws: Workspace,
    run: Run,
    plan: _Plan,
    python: str,
    report: ReproReport,
) -> Run:
    from keel.core.entities import DatasetVersion, RunStatus
    from keel.data.add import snapshot_path
    from keel.data.context import open_data
    from keel.tracking.queries import get_run
    from keel.tracking.recorder import open_run

    stage = _stage(code_ws, plan) if plan.kind == "stage" else None
    command: list[str] | str
    if stage is not None:
        command, cwd = stage.cmd, code_ws.root / stage.wdir
        outs = list(stage.all_outs)
    else:
        command, cwd = plan.argv, code_ws.root / plan.cwd
        outs = [d.path for d in run.outputs]
    new = open_run(
        session,
        experiment=run.experiment,
        name=f"reproduce {run.name or run.id[:8]}",
        params=run.params,
        tags={REPRODUCES_TAG: run.id},
        kind=run.kind,
        command=[command] if isinstance(command, str) else command,
        code_root=code_ws.root,
    )
    for dataset in run.inputs:  # restored by id: the same versions
        new.log_input(dataset_version(dataset))
    new.flush()
    report.reproductions.append(new.id)
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (run.context.get("env") or {}).items()})
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    env.update(
        {
            "KEEL_RUN_ID": new.id,
            "KEEL_WORKSPACE": str(code_ws.root),
            "KEEL_DB_URL": workspace.db_url,
            "KEEL_OBJECTS_DIR": str(workspace.objects_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if stage is not None:
        overrides = {k: v for k, v in run.params.items() if ":" not in k}
        if overrides:
            env["KEEL_PARAMS_OVERRIDES"] = json.dumps(overrides)
    done = subprocess.run(
        command, shell=isinstance(command, str), cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    new.log_text(done.stdout, "stdout.log")
    new.log_text(done.stderr, "stderr.log")
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        report.notes.append(f"the reproduction exited with code {done.returncode}: {tail}")
    ctx = open_data(workspace=code_ws)
    try:
        for out in outs:
            if (code_ws.root / out).exists():
                found = snapshot_path(ctx, out, store=True)
                new.log_output(DatasetVersion(found.path, found.oid, found.kind, found.size, found.files))
    finally:
        ctx.close()
    if stage is not None:
        from keel.pipeline.runner import read_metrics

        metrics: dict[str, float] = {}
        for path in stage.metrics:
            if (code_ws.root / path).is_file():
                metrics.update(read_metrics(code_ws.root / path))
        if metrics:
            new.log_metrics(metrics)
    new.end(RunStatus.FINISHED.value if done.returncode == 0 else RunStatus.FAILED.value)
    session.flush()
    return get_run(new.id, session=session)


def dataset_version(dataset: Any) -> Any:
    from keel.core.entities import DatasetVersion

    return DatasetVersion(dataset.path, dataset.oid, dataset.kind, dataset.size, dataset.files)


def _stage(code_ws: Workspace, plan: _Plan) -> Any:
    from keel.pipeline.spec import parse_stages

    stages = parse_stages(code_ws, graph=False).stages
    if plan.stage not in stages:
        raise NotFound(f"keel.yaml at that commit has no stage {plan.stage!r} (stages: {', '.join(stages)}).")
    return stages[plan.stage]


# -- comparing --------------------------------------------------------------------------------------


def _compare(
    session: Session,
    original: Run,
    new: Run,
    plan: _Plan,
    rtol: float,
    atol: float,
) -> list[Item]:
    items = []
    theirs = {d.path: d.oid for d in new.outputs}
    for dataset in original.outputs:
        oid = theirs.get(dataset.path)
        verdict = IDENTICAL if oid == dataset.oid else DIFFERS
        items.append(Item(dataset.path, "output", dataset.oid[:12], (oid or "(missing)")[:12], verdict))
    for key, value in sorted(original.metrics.items()):
        if key.startswith("check."):
            continue
        got = new.metrics.get(key)
        if got is None:
            verdict = DIFFERS
        elif got == value or (math.isnan(got) and math.isnan(value)):
            verdict = IDENTICAL
        elif abs(got - value) <= atol + rtol * abs(value):
            verdict = WITHIN
        else:
            verdict = DIFFERS
        items.append(Item(key, "metric", value, got, verdict))
    return items


def _verdict(items: list[Item]) -> str:
    if any(i.verdict == DIFFERS for i in items):
        return DIFFERS
    outputs_same = all(i.verdict == IDENTICAL for i in items if i.kind == "output")
    metrics_same = all(i.verdict == IDENTICAL for i in items if i.kind == "metric")
    return IDENTICAL if outputs_same and metrics_same else WITHIN


def _tag_verdict(session: Session, report: ReproReport) -> None:
    """Tag each reproduction with the verdict (they have ended: the rows go in directly)."""
    rows = [(run_id, "keel.reproduce.verdict", report.verdict) for run_id in report.reproductions]
    session.writer.add(tags=rows)
    session.flush()
