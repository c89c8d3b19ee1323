"""What a run records about where it ran: code, command, interpreter, machine, packages.

Captured once per process and reused by every run the process starts (a process runs the
code it imported at its start, so capturing once is also the faithful answer). The git
diff and the list of installed distributions are stored as objects; the run keeps their ids.
Budget: a few git subprocesses and a directory scan — well under 50 ms.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.core.liveness import hostname, process_start

if TYPE_CHECKING:
    from keel.core.settings import Settings
    from keel.core.workspace import Workspace
    from keel.objects.object_store import ObjectStore

_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
_cache_lock = threading.Lock()
#: Captures started by :func:`capture_soon`, by process and workspace: one each.
_started: dict[tuple[Any, ...], threading.Thread] = {}
_started_lock = threading.Lock()  # not _cache_lock: a capture holds that while it runs
_UNTRACKED_LISTED = 100


_identity: dict[int, tuple[str, str, int, int | None]] = {}


def current_user() -> str:
    return process_identity()[1]


def process_identity() -> tuple[str, str, int, int | None]:
    """(host, user, pid, pid start time) of this process, for the run row and liveness checks."""
    pid = os.getpid()
    known = _identity.get(pid)
    if known is None:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        known = _identity[pid] = (hostname(), user, pid, process_start(pid))
    return known


_json_cache: dict[tuple[Any, ...], str] = {}


def context_json(
    root: Path, settings: Settings, objects: ObjectStore, command: list[str] | None = None
) -> str:
    """:func:`capture_context` as compact JSON, memoized (runs of a process share it)."""
    cmd = tuple(command) if command is not None else tuple(sys.argv)
    key = (os.getpid(), root, objects.root, settings.capture_git, settings.capture_packages, cmd, os.getcwd())
    text = _json_cache.get(key)
    if text is None:
        context = capture_context(root, settings, objects, command)
        text = _json_cache[key] = json.dumps(context, separators=(",", ":"))
    return text


def capture_soon(workspace: Workspace) -> threading.Thread:
    """Start capturing the context of the runs about to open in ``workspace`` on a thread, so
    that its git calls and package scan overlap the caller's other start-up work; the thread
    then opens the metadata store the runs are written to. The first run to open waits for
    the capture and every run shares it. Returns the thread (to wait for it, as tests do); a
    second call for the same workspace returns the first call's thread."""
    key = (os.getpid(), workspace.root, workspace.objects_dir)
    with _started_lock:
        thread = _started.get(key)
        if thread is None:
            thread = _started[key] = threading.Thread(
                target=_capture_ahead, args=(workspace,), name="keel-context", daemon=True
            )
            thread.start()
    return thread


def _capture_ahead(workspace: Workspace) -> None:
    """:func:`capture_soon`'s thread: the context, then the metadata store opened."""
    from keel.objects.object_store import ObjectStore

    try:
        # The store and key the runs' own capture uses (see keel.tracking.recorder).
        capture_context(workspace.root, workspace.settings, ObjectStore(workspace.objects_dir))
        from keel.tracking.session import session_for_workspace

        session_for_workspace(workspace).db.ensure_schema()
    except Exception:  # noqa: BLE001 - the runs' own capture and writes try again and report it
        pass


def capture_context(
    root: Path, settings: Settings, objects: ObjectStore, command: list[str] | None = None
) -> dict[str, Any]:
    """The context of a run started now by this process (``command`` overrides argv)."""
    key = (os.getpid(), root, objects.root, settings.capture_git, settings.capture_packages)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None:
            cached = {
                "git": _git_context(root, settings, objects) if settings.capture_git else None,
                "python": _python(),
                "platform": _platform(),
                "host": hostname(),
                "user": current_user(),
                "packages": _packages(objects) if settings.capture_packages else None,
                "cpu": _cpu_model(),
                "gpus": _gpus(),
            }
            _cache[key] = cached
    context = dict(cached)
    wanted = [n.strip() for n in settings.capture_env.split(",") if n.strip()]
    context["env"] = {name: os.environ[name] for name in wanted if name in os.environ}
    context["command"] = list(command) if command is not None else list(sys.argv)
    context["cwd"] = os.getcwd()
    context["pid"] = os.getpid()
    return context


def run_git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    """``git -C root ARGS`` (output as bytes), or None when git cannot run or takes over 20 s."""
    return finish_git(start_git(root, *args))


def start_git(root: Path, *args: str) -> subprocess.Popen[bytes] | None:
    """Start ``git -C root ARGS`` (see :func:`finish_git`); None when git cannot run."""
    try:
        return subprocess.Popen(
            ["git", "-C", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError:
        return None


def finish_git(proc: subprocess.Popen[bytes] | None) -> subprocess.CompletedProcess[bytes] | None:
    """What a :func:`start_git` call printed, or None when it did not start or took over 20 s."""
    if proc is None:
        return None
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _git_context(root: Path, settings: Settings, objects: ObjectStore) -> dict[str, Any]:
    # Both calls at once: each costs a process start.
    started = start_git(root, "status", "--porcelain=v2", "--branch", "--untracked-files=normal")
    remotes_call = start_git(root, "config", "--get-regexp", r"^remote\..*\.url$")
    status = finish_git(started)
    remotes = finish_git(remotes_call)
    if status is None:
        return {"available": False, "note": "git is not installed or did not answer"}
    if status.returncode != 0:
        return {"available": False, "note": "not a git repository"}
    info: dict[str, Any] = {"available": True, "commit": None, "branch": None, "remotes": {}}
    changed = 0
    untracked: list[str] = []
    for line in status.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("# branch.oid "):
            oid = line.split(" ", 2)[2]
            info["commit"] = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[2]
            info["branch"] = None if head == "(detached)" else head
        elif line.startswith("? "):
            untracked.append(line[2:])
        elif line and line[0] in "12u":
            changed += 1
    if remotes is not None and remotes.returncode == 0:
        for line in remotes.stdout.decode("utf-8", "replace").splitlines():
            name, _, url = line.partition(" ")
            info["remotes"][name[len("remote.") : -len(".url")]] = url
    info["dirty"] = bool(changed)
    info["untracked"] = untracked[:_UNTRACKED_LISTED]
    info["untracked_count"] = len(untracked)
    info["diff"] = None
    if changed and info["commit"] is not None:
        diff = run_git(root, "diff", "HEAD", "--binary")
        if diff is not None and diff.returncode == 0:
            limit = settings.git_diff_max_bytes
            if len(diff.stdout) > limit:
                info["diff_note"] = (
                    f"uncommitted diff of {len(diff.stdout)} bytes exceeds git_diff_max_bytes "
                    f"({limit}); not stored"
                )
            else:
                info["diff"] = objects.put_bytes(diff.stdout)
                info["diff_bytes"] = len(diff.stdout)
    return info


def _python() -> dict[str, Any]:
    """The interpreter: what :mod:`platform` reports, read from :mod:`sys` (importing
    platform costs a command about 1.5 ms)."""
    name = sys.implementation.name
    return {
        "version": sys.version.split()[0],
        "implementation": _IMPLEMENTATIONS.get(name, name),
        "executable": sys.executable,
    }


#: platform.python_implementation()'s names for sys.implementation.name.
_IMPLEMENTATIONS = {"cpython": "CPython", "pypy": "PyPy", "ironpython": "IronPython", "jython": "Jython"}


def _platform() -> dict[str, Any]:
    """The operating system and machine, as platform.system/release/machine report them."""
    if hasattr(os, "uname"):
        uname = os.uname()
        system, release, machine = uname.sysname, uname.release, uname.machine
    else:  # Windows
        import platform

        system, release, machine = platform.system(), platform.release(), platform.machine()
    return {"system": system, "release": release, "machine": machine, "cpu_count": os.cpu_count()}


def _cpu_model() -> str | None:
    """The CPU's model name (Linux: /proc/cpuinfo; elsewhere what platform knows)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(("model name", "Hardware", "cpu model")):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    import platform

    return platform.processor() or None


def _gpus() -> list[str]:
    """NVIDIA GPUs by name and driver (``nvidia-smi``), when there is one; else none."""
    if (
        sys.platform == "linux"
        and not os.path.exists("/proc/driver/nvidia")
        and not os.path.exists("/dev/dxg")
    ):
        return []  # no NVIDIA driver loaded (nor WSL's GPU device): no GPU nvidia-smi could list
    import shutil

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in done.stdout.splitlines() if line.strip()] if done.returncode == 0 else []


def installed_distributions() -> list[str]:
    """``name==version`` of every distribution on ``sys.path``, sorted, from folder names only."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                stem = name[: -len(".dist-info")]
                dist, _, version = stem.partition("-")
            elif name.endswith(".egg-info"):
                dist, _, rest = name[: -len(".egg-info")].partition("-")
                version = rest.split("-py")[0]
            else:
                continue
            key = dist.replace("_", "-").lower()
            if key and key not in found:
                found[key] = version or "unknown"
    return sorted(f"{name}=={version}" for name, version in found.items())


def _packages(objects: ObjectStore) -> dict[str, Any]:
    lines = installed_distributions()
    oid = objects.put_bytes(("\n".join(lines) + "\n").encode())
    return {"oid": oid, "count": len(lines)}
