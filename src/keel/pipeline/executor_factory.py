"""Choosing an executor from ``keel run --executor``."""

from __future__ import annotations

from keel.core.errors import InvalidInput
from keel.core.workspace import Workspace
from keel.pipeline.executors import Executor, LocalExecutor


def make_executor(spec: str, workspace: Workspace) -> Executor:
    """``local``, ``dask-local`` (a LocalCluster started here) or ``dask://HOST:PORT``."""
    if spec in ("", "local"):
        return LocalExecutor(workspace.root)
    if spec == "dask-local" or spec.startswith(("dask://", "tcp://")):
        from keel.pipeline.dask_executor import DaskExecutor

        return DaskExecutor(spec, workspace)
    raise InvalidInput(f"Unknown executor {spec!r}; use local, dask-local or dask://HOST:PORT.")
