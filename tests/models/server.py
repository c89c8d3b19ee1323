"""Starting `keel serve` as a real subprocess on loopback, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(
    project: Path, ref: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Yield (base URL, process) once /ready answers; SIGTERM and wait on exit."""
    port = free_port()
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith("KEEL_") or k.startswith("KEEL_TEST_")
    }
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "keel", "serve", ref, "--port", str(port), *args],
        cwd=project,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise AssertionError(f"keel serve exited {proc.returncode}: {err}")
            try:
                if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("keel serve did not become ready in 60 s")
            time.sleep(0.1)
        yield base, proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[Any]) -> int:
    """SIGTERM the server, wait for it, and close its pipes; return its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return int(proc.returncode)
