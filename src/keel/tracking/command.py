"""``keel track -- CMD``: run any command as a tracked run.

The command runs with ``KEEL_RUN_ID`` (and ``KEEL_WORKSPACE``) in its environment, so its own
``keel.log_*`` calls land in the run. Its stdout and stderr pass through to the terminal and
are saved as the artifacts ``stdout.log`` and ``stderr.log``. The exit code decides the
status: 0 → finished, other → failed, killed by a signal → killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from keel.core.entities import RunKind, RunStatus
from keel.core.errors import CommandNotFound, InvalidInput

if TYPE_CHECKING:
    from keel.tracking.session import Session


@dataclass(frozen=True)
class TrackResult:
    run_id: str
    exit_code: int
    status: str


def _resolve(cmd: list[str], cwd: Path | None) -> None:
    program = cmd[0]
    if os.sep in program:
        path = Path(program) if Path(program).is_absolute() else (cwd or Path.cwd()) / program
        if not path.is_file():
            raise CommandNotFound(f"Command {program!r} not found: no such file.")
        if not os.access(path, os.X_OK):
            raise InvalidInput(
                f"Command {program!r} is not executable; chmod +x it or run it through its interpreter."
            )
    elif shutil.which(program) is None:
        raise CommandNotFound(f"Command {program!r} not found; check the spelling or your PATH.")


def _pump(source: IO[bytes], sinks: list[IO[bytes]]) -> None:
    fd = source.fileno()
    while chunk := os.read(fd, 65536):
        for sink in sinks:
            try:
                sink.write(chunk)
                sink.flush()
            except (BrokenPipeError, ValueError):
                sinks = [s for s in sinks if s is not sink]


def track_command(
    cmd: list[str],
    *,
    experiment: str | None = None,
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
    stdout: IO[bytes] | None = None,
    stderr: IO[bytes] | None = None,
    session: Session | None = None,
) -> TrackResult:
    """Run ``cmd`` as a tracked run and return its run id, exit code and status."""
    if not cmd:
        raise InvalidInput("Nothing to track: give a command after --, e.g. keel track -- python train.py")
    _resolve(cmd, cwd)
    from keel.tracking.fluent import start_run

    parent = os.environ.get("KEEL_RUN_ID") or None
    run = start_run(
        experiment,
        name,
        params,
        tags,
        parent=parent,
        kind=RunKind.COMMAND.value,
        command=list(cmd),
        session=session,
    )
    run.flush()  # the child attaches to the run by id: it must exist before the child starts
    env = dict(os.environ)
    env["KEEL_RUN_ID"] = run.id
    env["KEEL_WORKSPACE"] = str(run.session.workspace.root)
    env.setdefault("PYTHONUNBUFFERED", "1")  # show a Python child's output as it happens
    out_sink = stdout if stdout is not None else sys.stdout.buffer
    err_sink = stderr if stderr is not None else sys.stderr.buffer
    with tempfile.TemporaryDirectory(prefix="keel-track-") as scratch:
        out_log = Path(scratch) / "stdout.log"
        err_log = Path(scratch) / "stderr.log"
        with out_log.open("wb") as out_file, err_log.open("wb") as err_file:
            try:
                proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            except OSError as exc:
                run.set_tag("keel.error", f"could not start: {exc.strerror}")
                run.end(RunStatus.FAILED.value)
                raise InvalidInput(f"Could not start {cmd[0]!r}: {exc.strerror}.") from None
            assert proc.stdout is not None and proc.stderr is not None
            pumps = [
                threading.Thread(target=_pump, args=(proc.stdout, [out_file, out_sink]), daemon=True),
                threading.Thread(target=_pump, args=(proc.stderr, [err_file, err_sink]), daemon=True),
            ]
            for pump in pumps:
                pump.start()
            previous = signal.getsignal(signal.SIGTERM)
            forwarding = threading.current_thread() is threading.main_thread()
            if forwarding:
                signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
            try:
                while True:
                    try:
                        code = proc.wait()
                        break
                    except KeyboardInterrupt:
                        # The terminal sent SIGINT to the child too; wait for it to finish.
                        proc.send_signal(signal.SIGINT)
            finally:
                if forwarding:
                    signal.signal(signal.SIGTERM, previous)
            for pump in pumps:
                pump.join()
        run.log_artifact(out_log, "stdout.log")
        run.log_artifact(err_log, "stderr.log")
    if code == 0:
        status = RunStatus.FINISHED.value
    elif code < 0:
        status = RunStatus.KILLED.value
    else:
        status = RunStatus.FAILED.value
    run.set_tag("keel.exit_code", code)
    run.end(status)
    exit_code = 128 - code if code < 0 else code
    return TrackResult(run.id, exit_code, status)
