"""Where a stage's command runs. One small interface, two implementations:

- :class:`LocalExecutor` runs the command in the project on this machine.
- :class:`keel.pipeline.dask_executor.DaskExecutor` runs it on a Dask worker, which fetches
  the stage's inputs by id from the project's remote into a scratch folder and sends its
  outputs back the same way.

The runner decides what runs; an executor only runs one stage command and reports how it
went. Both are tested by the same contract suite.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from keel.core.values import DatasetVersion


class StageJob(NamedTuple):
    """What an executor needs to run one stage."""

    stage: str
    cmd: str
    wdir: str  # relative to the project root
    env: Mapping[str, str]
    inputs: tuple[DatasetVersion, ...]  # dependency versions (for executors that ship them)
    outs: tuple[str, ...]  # project-relative outputs to bring back
    logs: Path  # a folder for stdout.log / stderr.log
    #: the stage's own ``env:`` (also in ``env``): what a remote executor must forward
    declared_env: Mapping[str, str] = MappingProxyType({})


class StageOutcome:
    __slots__ = ("duration", "outputs", "returncode", "stderr", "stdout")

    def __init__(
        self,
        returncode: int,
        duration: float,
        stdout: Path,
        stderr: Path,
        outputs: dict[str, DatasetVersion] | None = None,
    ) -> None:
        self.returncode = returncode
        self.duration = duration
        self.stdout = stdout
        self.stderr = stderr
        #: outputs already stored (remote executors): path → version
        self.outputs = outputs if outputs is not None else {}

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def stderr_tail(self, lines: int = 20) -> str:
        try:
            text = self.stderr.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


class Executor(Protocol):
    name: str
    #: True when stages run elsewhere and need their inputs stored and sent (by id)
    ships_inputs: bool

    def run(self, job: StageJob) -> StageOutcome: ...

    def close(self) -> None: ...


def shell() -> list[str]:
    """The shell stage commands run in."""
    for candidate in ("/bin/bash", "/bin/sh"):
        if os.path.exists(candidate):
            return [candidate, "-c"]
    import shutil

    found = shutil.which("sh")
    return [found or "sh", "-c"]


#: A command made only of these characters has no quoting, variables, globs, redirections or
#: operators: the shell would only split it on spaces and run the program.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@% ")
#: Words the shell itself runs (builtins and keywords): such a command goes through the shell.
_SHELL_WORDS = frozenset(
    [
        "alias",
        "bg",
        "break",
        "builtin",
        "case",
        "cd",
        "command",
        "continue",
        "declare",
        "dirs",
        "disown",
        "echo",
        "enable",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "fc",
        "fg",
        "for",
        "function",
        "getopts",
        "hash",
        "help",
        "history",
        "if",
        "jobs",
        "kill",
        "let",
        "local",
        "logout",
        "popd",
        "printf",
        "pushd",
        "pwd",
        "read",
        "readonly",
        "return",
        "select",
        "set",
        "shift",
        "shopt",
        "source",
        "suspend",
        "test",
        "time",
        "times",
        "trap",
        "true",
        "type",
        "typeset",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "until",
        "wait",
        "while",
    ]
)


def direct_argv(cmd: str, env: Mapping[str, str], cwd: Path) -> list[str] | None:
    """``cmd`` as an argument list to run without a shell, when the shell would only split it
    into words and run a program found on PATH (saves the shell's start, ~3 ms a stage);
    else None."""
    if not set(cmd) <= _PLAIN:
        return None
    words = cmd.split()
    if not words or "=" in words[0] or words[0] in _SHELL_WORDS:
        return None
    program = words[0]
    if "/" in program:
        found = program if os.path.isabs(program) else os.path.join(cwd, program)
        return words if os.access(found, os.X_OK) and not os.path.isdir(found) else None
    for folder in env.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", program)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return [candidate, *words[1:]]
    return None


def run_command(cmd: str, cwd: Path, env: Mapping[str, str], logs: Path) -> StageOutcome:
    """Run ``cmd`` in ``cwd`` (through the shell unless it is a plain program call); output
    goes to ``logs``."""
    import subprocess  # here: a `keel run` with nothing to run starts no process

    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    started = time.monotonic()
    with out_path.open("wb") as out, err_path.open("wb") as err:

        def spawn(argv: list[str]) -> int:
            return subprocess.run(
                argv, cwd=cwd, env=dict(env), stdout=out, stderr=err, check=False
            ).returncode

        direct = direct_argv(cmd, env, cwd)
        try:
            try:
                code = spawn(direct or [*shell(), cmd])
            except OSError as exc:
                if direct is None or exc.errno != errno.ENOEXEC:
                    raise
                code = spawn([*shell(), cmd])  # a script without a #! line: the shell runs those
        except OSError as exc:
            err.write(f"keel: could not start the stage: {exc}\n".encode())
            code = 127
    return StageOutcome(code, time.monotonic() - started, out_path, err_path)


class LocalExecutor:
    """Stages run as subprocesses in the project folder on this machine."""

    name = "local"
    ships_inputs = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, job: StageJob) -> StageOutcome:
        return run_command(job.cmd, self.root / job.wdir, job.env, job.logs)

    def close(self) -> None:
        return None
