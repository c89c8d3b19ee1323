"""Running stages on a Dask cluster (``keel run --executor dask://HOST:PORT`` or
``--executor dask-local``).

Inputs and outputs travel by id through the project's default remote, so workers need no
shared filesystem: before a stage is submitted its inputs are pushed, the worker fetches
them into a scratch folder (:mod:`keel.pipeline.dask_worker`), runs the command, pushes the
outputs, and returns their versions, which the driver then checks out into the project.
Runs are recorded in the metadata store the driver uses; workers on other machines need to
reach it (PostgreSQL, ``KEEL_DB_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keel.core.entities import DatasetVersion
from keel.core.errors import InvalidInput, NotFound, StoreUnavailable
from keel.core.workspace import PROJECT_FILE, Workspace
from keel.pipeline.executors import StageJob, StageOutcome


class DaskExecutor:
    """Stages run on Dask workers."""

    name = "dask"
    ships_inputs = True

    def __init__(self, spec: str, workspace: Workspace, workers: int = 2) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InvalidInput(
                "The Dask executor needs dask[distributed]: pip install 'keel[dask]'."
            ) from None
        from keel.data.remotes import choose_remote

        self.workspace = workspace
        try:
            self.remote = choose_remote(workspace)
        except NotFound:
            raise InvalidInput(
                "The Dask executor moves stage inputs and outputs through a remote; add one first: "
                "keel remote add origin s3://bucket/keel (or a folder every worker can reach)."
            ) from None
        self.cluster: Any = None
        try:
            if spec == "dask-local":
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
                self.client = Client(self.cluster)
            else:
                address = spec.replace("dask://", "tcp://", 1)
                self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise StoreUnavailable(
                f"Cannot reach the Dask scheduler at {spec}: {exc}; check the address."
            ) from None

    def run(self, job: StageJob) -> StageOutcome:
        from keel.data.context import open_data
        from keel.data.lockfile import TrackedPath
        from keel.data.remotes import connect
        from keel.data.transfer import push
        from keel.pipeline import dask_worker

        data = open_data(workspace=self.workspace)
        try:
            versions = [TrackedPath(i.path, i.oid, i.kind, i.size, i.files) for i in job.inputs]
            push(data, connect(self.workspace, self.remote.name), versions)
        finally:
            data.close()
        payload = {
            "cmd": job.cmd,
            "wdir": job.wdir,
            "env": {
                **{
                    k: v
                    for k, v in job.env.items()
                    if k.startswith("KEEL_") or k in ("PATH", "PYTHONUNBUFFERED")
                },
                **job.declared_env,
            },
            "inputs": [i.to_dict() for i in job.inputs],
            "outs": list(job.outs),
            "remote": self.remote.to_dict(),
            "keel_yaml": (self.workspace.root / PROJECT_FILE).read_text(encoding="utf-8"),
        }
        future = self.client.submit(
            dask_worker.run_stage, payload, pure=False, key=f"keel-{job.stage}-{id(job)}"
        )
        result: dict[str, Any] = future.result()
        job.logs.mkdir(parents=True, exist_ok=True)
        stdout, stderr = Path(job.logs / "stdout.log"), Path(job.logs / "stderr.log")
        stdout.write_text(result["stdout"], encoding="utf-8")
        stderr.write_text(result["stderr"], encoding="utf-8")
        outputs = {
            path: DatasetVersion(v["path"], v["oid"], v["kind"], v["size"], v["files"])
            for path, v in result["outputs"].items()
        }
        return StageOutcome(result["returncode"], result["duration"], stdout, stderr, outputs)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
