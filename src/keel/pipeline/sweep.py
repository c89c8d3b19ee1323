"""``keel run --set key=v1,v2 …``: a grid of parameter combinations, run in parallel.

1. Stages that no override touches (directly or through their upstream) run once, in the
   project itself, as a normal ``keel run`` would — so shared upstream work is done once.
2. Each combination then runs in a scratch copy of the project (code and params, with the
   combination written into params.yaml), sharing the project's object store and metadata
   store: the shared stages are restored there from the run cache, the others run.
3. Every combination is a pipeline run under one sweep run; the table of combinations and
   their metrics comes back, sortable by a metric.

The project's own outputs and keel.lock are only touched by step 1.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.entities import RunStatus
from keel.core.errors import InvalidInput
from keel.core.workspace import Workspace, load_workspace
from keel.core.yaml_file import safe_dump, safe_load
from keel.pipeline.graph import select
from keel.pipeline.params import apply_overrides
from keel.pipeline.runner import PipelineReport, run_pipeline
from keel.pipeline.spec import Pipeline, parse_stages


def parse_sets(items: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
    """``("train.lr=0.01,0.1",)`` → ``{"train.lr": [0.01, 0.1]}`` (values read as YAML scalars)."""
    from keel.core.yaml_file import YamlSyntaxError, safe_load

    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise InvalidInput(f"--set {item!r} must look like KEY=VALUE[,VALUE…], e.g. train.lr=0.01,0.1.")
        values = []
        for text in raw.split(","):
            try:
                values.append(safe_load(text.strip()))
            except YamlSyntaxError:
                values.append(text.strip())
        if key in grid:
            raise InvalidInput(f"--set names {key} twice; give all its values once: {key}=a,b,c.")
        grid[key] = values
    return grid


@dataclass
class SweepResult:
    grid: dict[str, list[Any]]
    run_id: str | None
    points: list[PipelineReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(point.ok for point in self.points)

    def rows(self, sort_key: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for point in self.points:
            metrics: dict[str, float] = {}
            for stage in point.stages.values():
                metrics.update(stage.metrics)
            failed = next((st for st in point.stages.values() if st.state == "failed"), None)
            error = f"{failed.name}: {failed.reason}" if failed is not None else None
            rows.append(
                {
                    "run_id": point.run_id,
                    "overrides": point.overrides,
                    "metrics": metrics,
                    "ok": point.ok,
                    "error": error,
                }
            )
        if sort_key:
            descending = sort_key.startswith("-")
            name = sort_key.lstrip("-+")
            name = name[len("metrics.") :] if name.startswith("metrics.") else name
            known = {m for row in rows for m in row["metrics"]}
            if name not in known:
                raise InvalidInput(
                    f"--sort {sort_key}: no stage logged a metric {name!r}; metrics: {', '.join(sorted(known)) or 'none'}."
                )
            missing = float("-inf") if descending else float("inf")
            rows.sort(key=lambda r: r["metrics"].get(name, missing), reverse=descending)
        return rows

    def to_dict(self, sort_key: str | None = None) -> dict[str, Any]:
        return {"run_id": self.run_id, "ok": self.ok, "grid": self.grid, "points": self.rows(sort_key)}


def _touched(pipeline: Pipeline, keys: list[str]) -> set[str]:
    """Stages whose params include an overridden key, and everything downstream of them."""
    direct = set()
    for name, stage in pipeline.stages.items():
        for ref in stage.params:
            if ref.file != "params.yaml":
                continue
            for key in keys:
                if (
                    ref.key is None
                    or key == ref.key
                    or key.startswith(ref.key + ".")
                    or ref.key.startswith(key + ".")
                ):
                    direct.add(name)
    touched = set(direct)
    changed = True
    while changed:
        changed = False
        for name in pipeline.stages:
            if name not in touched and pipeline.upstream[name] & touched:
                touched.add(name)
                changed = True
    return touched


def _check_keys(workspace: Workspace, pipeline: Pipeline, order: list[str], keys: list[str]) -> set[str]:
    """The selected stages a sweep over ``keys`` changes; refuses keys params.yaml lacks (a
    typo would otherwise run every point with the same values) and keys no stage reads."""
    from keel.pipeline.params import flat_params, lookup

    params = workspace.root / "params.yaml"
    data = safe_load(params.read_text(encoding="utf-8"), cache_as=params) if params.exists() else {}
    for key in keys:
        try:
            lookup(data, key)
        except KeyError:
            known = ", ".join(sorted(flat_params(data if isinstance(data, dict) else {}))[:12]) or "none"
            raise InvalidInput(
                f"--set {key}: params.yaml has no key {key} (its keys: {known}); fix the name, "
                "or add the key to params.yaml first."
            ) from None
    touched = _touched(pipeline, keys) & set(order)
    if not touched:
        raise InvalidInput(
            f"No selected stage reads {', '.join(keys)} from params.yaml, so the sweep would change nothing; "
            "list the keys under the stages' params."
        )
    return touched


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, as overrides (``{"train.lr": 0.1, …}``)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]


def dry_sweep(
    workspace: Workspace, grid: dict[str, list[Any]], targets: list[str] | None = None
) -> list[tuple[dict[str, Any], PipelineReport]]:
    """What each point of a sweep would run, and why, without running or recording anything."""
    pipeline = parse_stages(workspace)
    _check_keys(workspace, pipeline, select(pipeline, targets), list(grid))
    points = []
    for overrides in combinations(grid):
        points.append(
            (overrides, run_pipeline(workspace, targets, dry=True, overrides=overrides, pipeline=pipeline))
        )
    return points


def _project_files(root: Path) -> list[str]:
    """Files a scratch copy needs: what git knows (tracked or not ignored), else everything
    outside .keel and .git."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except OSError:
        listed = None
    if listed is not None and listed.returncode == 0:
        return [p for p in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".keel", ".git")]
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return found


def _scratch(workspace: Workspace, overrides: dict[str, Any]) -> Workspace:
    """A scratch copy of the project for one combination, sharing its stores."""
    from keel.data.checkout import checkout_path
    from keel.data.context import open_data
    from keel.data.lockfile import read_lock

    root = Path(tempfile.mkdtemp(prefix="sweep-", dir=workspace.state_dir))
    lock = read_lock(workspace.root)
    skip = set(lock.versions())
    for rel in _project_files(workspace.root):
        if any(rel == p or rel.startswith(p + "/") for p in skip) or not os.path.isfile(workspace.root / rel):
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(workspace.root / rel, dest)
    params = root / "params.yaml"
    data = safe_load(params.read_text(encoding="utf-8")) if params.exists() else {}
    params.write_text(safe_dump(apply_overrides(data or {}, overrides)), encoding="utf-8")
    env = dict(os.environ)
    env["KEEL_OBJECTS_DIR"] = str(workspace.objects_dir)
    env["KEEL_DB_URL"] = workspace.db_url
    env.pop("KEEL_WORKSPACE", None)
    scratch = load_workspace(root, env)
    data_ctx = open_data(workspace=scratch)
    try:
        for tracked in lock.data.values():  # the tracked data stages read
            checkout_path(data_ctx, tracked, force=True)
    finally:
        data_ctx.close()
    return scratch


def run_sweep(
    workspace: Workspace,
    grid: dict[str, list[Any]],
    targets: list[str] | None = None,
    *,
    jobs: int | None = None,
    force: bool = False,
    experiment: str | None = None,
    executor_spec: str = "local",
) -> SweepResult:
    from keel.pipeline.executor_factory import make_executor
    from keel.tracking.recorder import open_run
    from keel.tracking.session import session_for_workspace

    pipeline = parse_stages(workspace)
    order = select(pipeline, targets)
    keys = list(grid)
    touched = _check_keys(workspace, pipeline, order, keys)
    session = session_for_workspace(workspace)
    sweep_run = open_run(
        session,
        experiment=experiment,
        name="sweep",
        params={f"grid.{k}": v for k, v in grid.items()},
        kind="sweep",
    )
    result = SweepResult(grid, sweep_run.id)
    workers = max(1, jobs or os.cpu_count() or 1)
    try:
        shared = [name for name in order if name not in touched]
        if shared:
            first = run_pipeline(
                workspace,
                shared,
                executor=make_executor(executor_spec, workspace),
                jobs=workers,
                force=force,
                experiment=experiment,
                pipeline=pipeline,
                parent_run=sweep_run.id,
            )
            if not first.ok:
                result.points.append(first)
                return result
        combos = combinations(grid)

        def point(overrides: dict[str, Any]) -> PipelineReport:
            scratch = _scratch(workspace, overrides)
            try:
                return run_pipeline(
                    scratch,
                    targets,
                    executor=make_executor(executor_spec, scratch),
                    jobs=1,
                    force=force,
                    overrides=overrides,
                    experiment=experiment,
                    parent_run=sweep_run.id,
                )
            finally:
                shutil.rmtree(scratch.root, ignore_errors=True)

        with ThreadPoolExecutor(max_workers=min(workers, len(combos))) as pool:
            result.points.extend(pool.map(point, combos))
    finally:
        sweep_run.end(RunStatus.FINISHED.value if result.ok else RunStatus.FAILED.value)
    return result
