"""``keel run``: execute the stage graph, skipping what did not change.

For each selected stage, in dependency order and as many at once as ``jobs`` allows:

1. its **cache key** is computed from the command, the versions of its dependencies (the
   stat cache makes this cheap), its parameter values, its declared environment and its
   outputs' names;
2. **unchanged** — keel.lock records the same key and the outputs are as recorded: nothing
   to do (no run is recorded);
3. **restored** — the run cache (metadata store) knows an earlier execution with this key:
   its outputs are checked out from the object store, without running;
4. otherwise it **runs**: the command runs through an executor, its outputs are stored,
   its metrics files logged, and keel.lock and the run cache updated.

Every pipeline execution is a parent run; every stage that runs or is restored is a child
run with its params, inputs, outputs and metrics; the command logs into it through
``KEEL_RUN_ID``. A failing stage stops its dependents; independent stages finish; its
outputs are not recorded, so the next ``keel run`` resumes where this one stopped.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from keel.core.errors import Conflict, KeelError, NotFound
from keel.core.hashing import hash_bytes
from keel.core.workspace import Workspace
from keel.core.yaml_file import YamlSyntaxError, safe_load
from keel.data.add import ensure_gitignored, snapshot_path
from keel.data.context import DataContext, open_data
from keel.data.lockfile import TrackedPath, read_lock, update_lock
from keel.objects.files import unlink_quietly
from keel.pipeline.cache_key import stage_key
from keel.pipeline.executors import Executor, LocalExecutor, StageJob, StageOutcome
from keel.pipeline.graph import select
from keel.pipeline.params import flat_params, stage_params
from keel.pipeline.spec import Pipeline, Stage, parse_stages

if TYPE_CHECKING:
    from keel.core.values import DatasetVersion

DONE = ("unchanged", "restored", "ran")


class _Released(Exception):
    """Sent to the scheduler in place of an error: the stage's dependents may start."""


_RELEASED = _Released()

Listener = Callable[["StageReport"], None]


class StageReport:
    """What became of one stage; updated as it goes (listeners see each change)."""

    __slots__ = ("checks", "duration", "error", "metrics", "name", "reason", "run_id", "state")

    def __init__(self, name: str) -> None:
        self.name = name
        #: pending, running, unchanged, restored, ran, failed, skipped, would run
        self.state = "pending"
        self.reason = ""
        self.duration: float | None = None
        self.run_id: str | None = None
        self.error = ""
        self.metrics: dict[str, float] = {}
        #: the stage's checks: spec, subject, status, run id, message
        self.checks: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return f"StageReport({self.name!r}, state={self.state!r}, reason={self.reason!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "duration": self.duration,
            "run_id": self.run_id,
            "error": self.error,
            "metrics": {k: v for k, v in self.metrics.items() if math.isfinite(v)},
            "checks": self.checks,
        }


class PipelineReport:
    __slots__ = ("overrides", "run_id", "stages")

    def __init__(
        self, run_id: str | None, stages: dict[str, StageReport], overrides: dict[str, Any] | None = None
    ) -> None:
        self.run_id = run_id
        self.stages = stages
        self.overrides = overrides if overrides is not None else {}

    @property
    def ok(self) -> bool:
        return all(r.state in (*DONE, "would run") for r in self.stages.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "overrides": self.overrides,
            "stages": [r.to_dict() for r in self.stages.values()],
        }


class _Evaluation(NamedTuple):
    key: str
    deps: dict[str, TrackedPath]
    params: dict[str, Any]


def _lock_state(root: Path) -> dict[str, Any]:
    stages = read_lock(root).extra.get("stages") or {}
    return stages if isinstance(stages, dict) else {}


def _dataset(version: TrackedPath) -> DatasetVersion:
    from keel.core.values import DatasetVersion

    return DatasetVersion(version.path, version.oid, version.kind, version.size, version.files)


@contextmanager
def output_locks(root: Path, outs: tuple[str, ...]) -> Iterator[None]:
    """Hold a lock per output for the stage's execution: another ``keel run`` writing the
    same output is refused at once; runs writing other outputs proceed."""
    folder = root / ".keel" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for out in sorted(outs):
            handle = stack.enter_context((folder / (hash_bytes(out.encode())[:24] + ".lock")).open("a"))
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(
                    f"{out} is being written by another `keel run` right now; wait for it to finish, "
                    "or run stages that write other outputs."
                ) from None
            stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


def read_metrics(path: Path) -> dict[str, float]:
    """Every number in a JSON or YAML metrics file, with dotted keys for nested ones."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = safe_load(text)
        except YamlSyntaxError:
            return {}
    found: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, bool):
            return
        if isinstance(value, int | float):
            found[prefix] = float(value)
        elif isinstance(value, Mapping):
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)

    walk("", data)
    return found


class PipelineRunner:
    """One ``keel run``. Thread-safe: stages run on a pool of ``jobs`` threads."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        executor: Executor | None = None,
        jobs: int | None = None,
        force: bool = False,
        dry: bool = False,
        overrides: Mapping[str, Any] | None = None,
        experiment: str | None = None,
        listener: Listener | None = None,
        pipeline: Pipeline | None = None,
        data: DataContext | None = None,
        record_lock: bool = True,
        parent_run: str | None = None,
    ) -> None:
        self.workspace = workspace
        self.root = workspace.root
        self.pipeline = pipeline or parse_stages(workspace)
        self.executor = executor or LocalExecutor(self.root)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.force = force
        self.dry = dry
        self.overrides = dict(overrides or {})
        self.experiment = experiment
        self.listener = listener
        self.data = data or open_data(workspace=workspace)
        self.record_lock = record_lock  # False for sweep points: the workspace keeps its own state
        self.parent_run = parent_run
        self._lock = threading.Lock()
        self._params_cache: dict[str, Any] = {}
        self._parent: Any = None
        self._order: list[str] = []
        self._report = PipelineReport(None, {})
        self._recorded: dict[str, Any] = {}
        #: stages evaluated before they were scheduled (their inputs do not change meanwhile)
        self._evaluated: dict[str, _Evaluation] = {}
        #: tells the scheduler a stage's dependents may start (set while scheduling)
        self._release: Callable[[str], None] = lambda name: None

    # -- reporting ---------------------------------------------------------------------------

    def _set(self, report: StageReport, state: str, reason: str = "") -> None:
        with self._lock:
            report.state = state
            if reason:
                report.reason = reason
        if self.listener is not None:
            self.listener(report)

    # -- evaluation -----------------------------------------------------------------------

    def evaluate(self, stage: Stage) -> _Evaluation:
        # Executors that run stages elsewhere get the inputs by id: store them as well.
        ship = bool(getattr(self.executor, "ships_inputs", False))
        deps = {dep: snapshot_path(self.data, dep, store=ship) for dep in stage.deps}
        params = stage_params(self.root, stage, self.overrides, self._params_cache)
        key = stage_key(stage, {p: v.oid for p, v in deps.items()}, params)
        return _Evaluation(key, deps, params)

    def _shipped_inputs(self, stage: Stage, evaluation: _Evaluation) -> tuple[DatasetVersion, ...]:
        inputs = [_dataset(v) for v in evaluation.deps.values()]
        if getattr(self.executor, "ships_inputs", False):
            for file in sorted({ref.file for ref in stage.params}):
                if file not in evaluation.deps and (self.root / file).exists():
                    inputs.append(_dataset(snapshot_path(self.data, file)))
        return tuple(inputs)

    def _outputs_as_recorded(self, stage: Stage, recorded: Mapping[str, Any]) -> str | None:
        """None when every output is as recorded; else why not."""
        outs = recorded.get("outs") or {}
        for out in stage.all_outs:
            entry = outs.get(out)
            if entry is None:
                return f"{out} was never recorded"
            if not (self.root / out).exists():
                return f"{out} is missing"
            if snapshot_path(self.data, out, store=False).oid != entry["oid"]:
                return f"{out} was changed"
        return None

    def why(self, stage: Stage, evaluation: _Evaluation, recorded: Mapping[str, Any] | None) -> str | None:
        """None when the stage is unchanged; else the reason it must run."""
        if self.force:
            return "forced (--force)"
        if not recorded:
            return "never ran"
        if recorded.get("key") == evaluation.key:
            return self._outputs_as_recorded(stage, recorded)
        old_deps = recorded.get("deps") or {}
        changed = [d for d, v in evaluation.deps.items() if old_deps.get(d) != v.oid]
        if changed:
            return "changed dependencies: " + ", ".join(changed)
        old_params = flat_params(recorded.get("params") or {})
        new_params = flat_params(evaluation.params)
        diff = sorted(k for k in set(old_params) | set(new_params) if old_params.get(k) != new_params.get(k))
        if diff:
            return "changed params: " + ", ".join(diff)
        return "changed command, environment or outputs"

    # -- running -------------------------------------------------------------------------------

    def run(self, targets: list[str] | None = None) -> PipelineReport:
        order = select(self.pipeline, targets)
        reports = {name: StageReport(name) for name in order}
        report = PipelineReport(None, reports, self.overrides)
        if not order:
            return report
        if self.dry:
            self._dry_run(order, reports)
            return report
        self._order = order
        self._report = report
        # The stages' recorded states, read once: each stage's entry changes only when this
        # run records it (a concurrent run writing the same outputs is locked out).
        self._recorded = _lock_state(self.root) if self.record_lock else {}
        interrupted = True
        try:
            self._schedule(order, reports)
            interrupted = False
        finally:
            if self._parent is not None:
                failed = interrupted or any(r.state in ("failed", "skipped") for r in reports.values())
                _end(self._parent, failed=failed)
        return report

    def _parent_id(self) -> str:
        """The pipeline's run, opened when the first stage runs or is restored: a `keel run`
        with nothing to do records nothing."""
        with self._lock:
            if self._parent is None:
                from keel.tracking.recorder import open_run

                label = ", ".join(f"{k}={v}" for k, v in self.overrides.items())
                self._parent = open_run(
                    self._session(),
                    experiment=self.experiment,
                    name="pipeline" + (f" [{label}]" if label else ""),
                    params={f"set.{k}": v for k, v in self.overrides.items()},
                    tags={"keel.stages": ",".join(self._order)},
                    parent_id=self.parent_run,
                    kind="pipeline",
                )
                self._report.run_id = self._parent.id
            return str(self._parent.id)

    def _dry_run(self, order: list[str], reports: dict[str, StageReport]) -> None:
        state = _lock_state(self.root)
        will_run: set[str] = set()
        for name in order:
            stage = self.pipeline.stages[name]
            upstream = sorted(self.pipeline.upstream[name] & will_run)
            if upstream:
                self._set(reports[name], "would run", f"upstream {upstream[0]} would run")
                will_run.add(name)
                continue
            reason = self.why(stage, self.evaluate(stage), state.get(name))
            if reason is None:
                self._set(reports[name], "unchanged")
            else:
                self._set(reports[name], "would run", reason)
                will_run.add(name)

    def _settle_unchanged(self, order: list[str], reports: dict[str, StageReport]) -> list[str]:
        """Mark the leading stages whose command, inputs and outputs are as recorded as
        unchanged, on this thread; return the stages left to schedule. A run with nothing
        to do then starts no threads (nor loads the thread pool's modules)."""
        pending = list(order)
        selected = set(order)
        while pending and not self.force:
            name = pending[0]
            if any(reports[u].state != "unchanged" for u in self.pipeline.upstream[name] & selected):
                break
            stage = self.pipeline.stages[name]
            started = time.monotonic()
            try:
                evaluation = self.evaluate(stage)
                reason = self.why(stage, evaluation, self._recorded.get(name))
            except Exception:  # noqa: BLE001 - the scheduler evaluates it again and reports it
                break
            if reason is not None:
                self._evaluated[name] = evaluation  # the stage's thread goes on from here
                break
            reports[name].duration = time.monotonic() - started
            self._set(reports[name], "unchanged")
            pending.pop(0)
        return pending

    def _schedule(self, order: list[str], reports: dict[str, StageReport]) -> None:
        pending = self._settle_unchanged(order, reports)
        if not pending:
            return
        from queue import SimpleQueue

        # One thread per running stage (at most `jobs`); each reports (name, error) when done.
        done: SimpleQueue[tuple[str, BaseException | None]] = SimpleQueue()
        running: set[str] = set()

        def work(name: str) -> None:
            error: BaseException | None = None
            try:
                self._stage(self.pipeline.stages[name], reports[name])
            except BaseException as exc:  # noqa: BLE001 - reported as the stage's failure
                error = exc
            done.put((name, error))

        selected = set(order)

        # A stage whose outputs are stored and checked and whose state is in keel.lock
        # releases its dependents before it ends its run (see _conclude): they start while
        # it finishes.
        released: set[str] = set()
        self._release = lambda name: done.put((name, _RELEASED))

        def done_with(u: str) -> bool:
            state = reports[u].state
            return state in DONE or (u in released and state not in ("failed", "skipped"))

        def finished(name: str, error: BaseException | None) -> None:
            if error is _RELEASED:
                released.add(name)
                return
            running.discard(name)
            if error is not None:
                reports[name].error = str(error)
                self._set(
                    reports[name],
                    "failed",
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                )

        try:
            while pending or running:
                for name in list(pending):
                    upstream = self.pipeline.upstream[name] & selected
                    blocked = [u for u in upstream if reports[u].state in ("failed", "skipped")]
                    if blocked:
                        pending.remove(name)
                        self._set(reports[name], "skipped", f"upstream {sorted(blocked)[0]} did not complete")
                        continue
                    if len(running) < self.jobs and all(done_with(u) for u in upstream):
                        pending.remove(name)
                        self._set(reports[name], "running")
                        running.add(name)
                        threading.Thread(target=work, args=(name,), name=f"keel-stage-{name}").start()
                if running:
                    finished(*done.get())
        except BaseException:
            # Interrupted (Ctrl-C reaches the stages' commands too): let the running stages
            # end and record their outcome, then stop; the pipeline's run ends as failed.
            for name in pending:
                self._set(reports[name], "skipped", "the pipeline was interrupted")
            while running:
                finished(*done.get())
            raise

    def _stage(self, stage: Stage, report: StageReport) -> None:
        started = time.monotonic()
        try:
            evaluation = self._evaluated.pop(stage.name, None) or self.evaluate(stage)
            recorded = self._recorded.get(stage.name)
            reason = self.why(stage, evaluation, recorded)
            if reason is None:
                self._set(report, "unchanged")
                return
            self._will_record()
            if not self.force:
                from keel.store.stage_cache_repo import lookup

                cached = lookup(self._session().db, evaluation.key)
                if cached is not None and self._restore(stage, evaluation, cached, report):
                    report.duration = time.monotonic() - started
                    self._set(
                        report, "restored", f"same inputs as run {str(cached.get('run_id') or '?')[:8]}"
                    )
                    return
            report.reason = reason
            self._execute(stage, evaluation, report)
        finally:
            report.duration = time.monotonic() - started

    def _will_record(self) -> None:
        """A stage will run or be restored: capture the runs' context while the metadata
        store opens (once per workspace and process: capture_soon starts it once)."""
        from keel.tracking.context import capture_soon

        capture_soon(self.workspace)

    def _session(self) -> Any:
        from keel.tracking.session import session_for_workspace

        return session_for_workspace(self.workspace)

    def _open_stage_run(self, stage: Stage, evaluation: _Evaluation, restored: bool) -> Any:
        from keel.tracking.recorder import open_run

        run = open_run(
            self._session(),
            experiment=self.experiment,
            name=stage.name,
            params=flat_params(evaluation.params),
            tags={"keel.stage": stage.name, "keel.cache_key": evaluation.key[:16], "keel.restored": restored},
            parent_id=self._parent_id(),
            kind="stage",
            command=[stage.cmd],
        )
        for version in evaluation.deps.values():
            run.log_input(_dataset(version))
        return run

    def _restore(
        self,
        stage: Stage,
        evaluation: _Evaluation,
        cached: Mapping[str, Any],
        report: StageReport,
    ) -> bool:
        outs = {
            path: TrackedPath.from_entry(path, entry) for path, entry in (cached.get("outs") or {}).items()
        }
        if set(outs) != set(stage.all_outs):
            return False
        from keel.data.checkout import checkout_path

        try:
            self._fetch_missing(list(outs.values()))
            with output_locks(self.root, stage.all_outs):
                for version in outs.values():
                    checkout_path(self.data, version, force=True)
        except (NotFound, KeelError):
            return False  # objects gone: run it instead
        run = self._open_stage_run(stage, evaluation, restored=True)
        report.run_id = run.id
        self._log_results(run, stage, outs, report)
        _end(run)
        self._record(stage, evaluation, outs, run.id)
        return True

    def _fetch_missing(self, versions: list[TrackedPath]) -> None:
        from keel.data.checkout import missing_objects

        lacking = []
        for version in versions:
            try:
                if missing_objects(self.data, version):
                    lacking.append(version)
            except NotFound:
                lacking.append(version)
        if not lacking:
            return
        from keel.data.remotes import connect
        from keel.data.transfer import fetch

        fetch(self.data, connect(self.workspace), lacking)

    def _execute(self, stage: Stage, evaluation: _Evaluation, report: StageReport) -> None:
        with output_locks(self.root, stage.all_outs):
            run = self._open_stage_run(stage, evaluation, restored=False)
            report.run_id = run.id
            run.flush()  # the command attaches to the run by id
            self._clear_outputs(stage)
            env = dict(os.environ)
            # `python` in a stage command is the interpreter Keel runs in (its virtualenv).
            env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
            env.update(stage.env)
            env.update(
                {
                    "KEEL_RUN_ID": run.id,
                    "KEEL_WORKSPACE": str(self.root),
                    # The stores this run uses, also when the project is a sweep's scratch copy.
                    "KEEL_DB_URL": self.workspace.db_url,
                    "KEEL_OBJECTS_DIR": str(self.workspace.objects_dir),
                    "PYTHONUNBUFFERED": env.get("PYTHONUNBUFFERED", "1"),
                }
            )
            if self.overrides:
                env["KEEL_PARAMS_OVERRIDES"] = json.dumps(self.overrides)
            # The command's stdout and stderr go to files, stored as the run's artifacts.
            logs = self.workspace.state_dir / "tmp" / f"stage-{run.id}"
            try:
                job = StageJob(
                    stage.name,
                    stage.cmd,
                    stage.wdir,
                    env,
                    self._shipped_inputs(stage, evaluation),
                    stage.all_outs,
                    logs,
                    dict(stage.env),
                )
                outcome = self.executor.run(job)
                self._conclude(stage, evaluation, report, run, outcome)
            finally:
                _remove_folder(logs)

    def _conclude(
        self, stage: Stage, evaluation: _Evaluation, report: StageReport, run: Any, outcome: StageOutcome
    ) -> None:
        """Record how a stage's command went (its logs are still in place)."""
        if not outcome.ok:
            self._fail(run, report, outcome, f"exit code {outcome.returncode}")
            return
        missing = [
            out for out in stage.all_outs if out not in outcome.outputs and not (self.root / out).exists()
        ]
        if missing:
            self._fail(run, report, outcome, f"it did not write {missing[0]}")
            return
        outs = {
            out: _tracked(outcome.outputs[out]) if out in outcome.outputs else snapshot_path(self.data, out)
            for out in stage.all_outs
        }
        if outcome.outputs:  # made elsewhere: bring them into the project
            from keel.data.checkout import checkout_path

            for dataset in outcome.outputs.values():
                self._fetch_missing([_tracked(dataset)])
                checkout_path(self.data, _tracked(dataset), force=True)
        self._log_results(run, stage, outs, report)
        run.set_tag("keel.exit_code", outcome.returncode)
        stopped = self._run_checks(stage, run, report)
        if stopped is not None:
            self._fail(run, report, outcome, stopped, tail=False)
            return
        self._record(stage, evaluation, outs, run.id)
        # Outputs stored and checked, state in keel.lock: dependents may start while this
        # stage's logs are stored, its run ended and its execution added to the run cache.
        self._release(stage.name)
        _keep_logs(run, outcome)
        _end(run)
        from keel.store.stage_cache_repo import remember

        remember(
            self._session().db,
            evaluation.key,
            stage.name,
            {p: v.to_dict() for p, v in outs.items()},
            run.id,
        )
        report.duration = outcome.duration
        self._set(report, "ran")

    def _run_checks(self, stage: Stage, run: Any, report: StageReport) -> str | None:
        """Run the stage's checks (recorded under its run); why the pipeline stops, or None."""
        if not stage.checks:
            return None
        from keel.checks.stage import run_stage_check

        run.flush()  # check runs are children of the stage's run
        stopped = None
        for check in stage.checks:
            outcome = run_stage_check(self.workspace, check, run.id, self.experiment)
            report.checks.append(outcome.to_dict())
            if outcome.stops and stopped is None:
                stopped = outcome.message()
        return stopped

    def _fail(
        self, run: Any, report: StageReport, outcome: StageOutcome, why: str, tail: bool = True
    ) -> None:
        """The stage failed (``tail``: show the end of its stderr)."""
        _keep_logs(run, outcome)
        run.set_tag("keel.exit_code", outcome.returncode)
        _end(run, failed=True)
        report.error = outcome.stderr_tail() if tail else ""
        self._set(report, "failed", why)

    def _clear_outputs(self, stage: Stage) -> None:
        """Remove outputs whose content is stored, so stale files cannot leak into the new
        version; outputs holding content Keel never stored are left alone."""
        for out in stage.all_outs:
            path = self.root / out
            if not path.exists():
                continue
            try:
                version = snapshot_path(self.data, out, store=False)
            except KeelError:
                continue
            if self.data.store.exists(version.oid):
                if path.is_dir() and not path.is_symlink():
                    import shutil

                    shutil.rmtree(path)
                else:
                    path.unlink()

    def _log_results(
        self, run: Any, stage: Stage, outs: Mapping[str, TrackedPath], report: StageReport
    ) -> None:
        for version in outs.values():
            run.log_output(_dataset(version))
        metrics: dict[str, float] = {}
        for path in stage.metrics:
            metrics.update(read_metrics(self.root / path))
        if metrics:
            run.log_metrics(metrics)
        report.metrics = metrics

    def _record(
        self, stage: Stage, evaluation: _Evaluation, outs: Mapping[str, TrackedPath], run_id: str
    ) -> None:
        if not self.record_lock:
            return
        with update_lock(self.root) as lock:
            # outputs are versioned in keel.lock, like `keel data add`'s data: not in git
            ensure_gitignored(self.root, list(outs))
            stages = lock.extra.setdefault("stages", {})
            stages[stage.name] = {
                "key": evaluation.key,
                "deps": {p: v.oid for p, v in sorted(evaluation.deps.items())},
                "params": evaluation.params,
                "outs": {p: v.to_dict() for p, v in sorted(outs.items())},
                "run": run_id,
            }


def _end(run: Any, failed: bool = False) -> None:
    """End a stage's or the pipeline's run (the run entities load only once one was opened)."""
    from keel.core.values import RunStatus

    run.end(RunStatus.FAILED.value if failed else RunStatus.FINISHED.value)


def _keep_logs(run: Any, outcome: StageOutcome) -> None:
    """Store the command's stdout and stderr as the run's artifacts."""
    run.log_artifact(outcome.stdout, "stdout.log")
    run.log_artifact(outcome.stderr, "stderr.log")


def _remove_folder(folder: Path) -> None:
    """Remove a flat folder of files (a stage's logs), quietly."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        unlink_quietly(folder / name)
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _tracked(dataset: DatasetVersion) -> TrackedPath:
    return TrackedPath(dataset.path, dataset.oid, dataset.kind, dataset.size, dataset.files)


def run_pipeline(workspace: Workspace, targets: list[str] | None = None, **options: Any) -> PipelineReport:
    """Run the stages ``targets`` (and their upstream; all stages when None), then close the
    executor and the data context (unless ``data`` was passed in)."""
    runner = PipelineRunner(workspace, **options)
    try:
        return runner.run(targets)
    finally:
        runner.executor.close()
        if "data" not in options:
            runner.data.close()
