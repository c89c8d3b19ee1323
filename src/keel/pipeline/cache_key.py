"""A stage's cache key: what must be equal for an earlier result to stand for a new run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from keel.core.hashing import hash_bytes
from keel.pipeline.spec import Stage

KEY_FORMAT = 1


def stage_key(stage: Stage, deps: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """hash(command, working folder, dependency ids, parameter values, declared env, outputs)."""
    payload = {
        "format": KEY_FORMAT,
        "cmd": stage.cmd,
        "wdir": stage.wdir,
        "deps": dict(sorted(deps.items())),
        "params": params,
        "env": dict(sorted(stage.env.items())),
        "outs": sorted(stage.all_outs),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hash_bytes(text.encode("utf-8"))
