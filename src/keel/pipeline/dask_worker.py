"""What runs on a Dask worker for one stage.

The worker gets everything by id: it fetches the stage's inputs from the project's remote
into a scratch folder, runs the command there, stores the outputs and pushes them to the
remote, and returns their versions. It shares nothing with the driver but the remote and
the metadata store (the command logs into its run through ``KEEL_RUN_ID``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_LOG_LIMIT = 1 << 20


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-_LOG_LIMIT:].decode("utf-8", "replace")


def run_stage(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one stage described by ``payload`` (see DaskExecutor.run) and report back."""
    from keel.core.workspace import load_workspace
    from keel.data.add import snapshot_path
    from keel.data.checkout import checkout_path
    from keel.data.context import open_data
    from keel.data.lockfile import TrackedPath
    from keel.data.transfer import fetch, push
    from keel.objects.remote import open_remote
    from keel.pipeline.executors import run_command

    scratch = Path(tempfile.mkdtemp(prefix="keel-dask-stage-"))
    try:
        (scratch / "keel.yaml").write_text(payload["keel_yaml"], encoding="utf-8")
        env = dict(os.environ)
        env.update(payload["env"])
        env.pop("KEEL_WORKSPACE", None)
        env["KEEL_OBJECTS_DIR"] = str(scratch / ".keel" / "objects")
        workspace = load_workspace(scratch, {**env, "KEEL_DATA_LINK": "copy"})
        data = open_data(workspace=workspace)
        remote_cfg = payload["remote"]
        remote = open_remote(remote_cfg["name"], remote_cfg["url"], remote_cfg.get("options") or {}, scratch)
        try:
            inputs = [
                TrackedPath(i["path"], i["oid"], i["kind"], i["size"], i["files"]) for i in payload["inputs"]
            ]
            fetch(data, remote, inputs)
            for version in inputs:
                checkout_path(data, version, force=True)
            for out in payload["outs"]:
                (scratch / out).parent.mkdir(parents=True, exist_ok=True)
            env["KEEL_WORKSPACE"] = str(scratch)
            logs = scratch / ".keel" / "logs"
            outcome = run_command(payload["cmd"], scratch / payload["wdir"], env, logs)
            result: dict[str, Any] = {
                "returncode": outcome.returncode,
                "duration": outcome.duration,
                "stdout": _tail(outcome.stdout),
                "stderr": _tail(outcome.stderr),
                "outputs": {},
                "worker": os.uname().nodename,
            }
            if outcome.returncode != 0:
                return result
            versions = []
            for out in payload["outs"]:
                if (scratch / out).exists():
                    versions.append(snapshot_path(data, out))
            push(data, remote, versions)
            # What the command stored itself (model packages, artifacts) lives in this scratch
            # store: send it too, so the driver and teammates can read it.
            made = [TrackedPath("object", oid, "file", 0, 0) for oid in data.store.iter_oids()]
            push(data, remote, made)
            result["outputs"] = {
                v.path: {"path": v.path, "oid": v.oid, "kind": v.kind, "size": v.size, "files": v.files}
                for v in versions
            }
            return result
        finally:
            data.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
