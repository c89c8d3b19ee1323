"""Keel's data versioning against DVC, on the workloads of PERFORMANCE.md.

Usage::

    /work/main/.venv/bin/python benchmarks/bench_data.py [--quick] [--repeats N] [--markdown FILE]

Every figure is the wall-clock time of one whole CLI command in a fresh process (what a user
waits for): ``dvc add`` vs ``keel data add``, ``dvc status`` vs ``keel data status``, and so on.
Each trial runs in a fresh temporary folder on the disk of the temporary directory: a git
repository with ``dvc init`` for DVC, a ``keel init`` project (also ``git init``-ed) for Keel,
holding freshly generated random data that is identical for both tools within a trial. DVC and
Keel trials alternate, DVC first. Data is written and then ``sync``-ed before every timed
command, so neither tool pays for the other's (or the generator's) write-back; the page cache
is not dropped (both tools read data that was just written, as a user's would be).

Keel runs its console script from the project's ``.venv`` on a byte-compiled snapshot of
``src/keel`` (see bench_tracking.keel_snapshot); DVC runs from its own virtualenv under
``benchmarks/.venvs/dvc``. See benchmarks/README.md for what each workload measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import harness  # this folder is on sys.path when the script runs
from harness import KEEL_PYTHON, PROJECT_ROOT, Row, Venv, log

#: The newest 3.x release on the index this machine uses (PERFORMANCE.md's anchors used 3.67).
DVC_REQUIREMENT = "dvc==3.67.1"
#: Nothing may leave the machine.
DVC_ENV = {"DVC_NO_ANALYTICS": "1"}
KEEL_BIN = KEEL_PYTHON.parent / "keel"

DATA = "data/raw"  # both tools track paths under this folder
FILES_PER_FOLDER = 1_000  # many-file data sets are laid out as 000/000000.bin, 000/000001.bin, …
SEED_FILE, SEED_FOLDER, SEED_CHECKOUT = 1_000, 2_000, 3_000


@dataclass(frozen=True)
class Sizes:
    big_file: int  # bytes of the single large file
    folder_files: int  # files of the folder to add (and to run status over)
    folder_file_size: int
    checkout_files: int  # files to check out and push
    checkout_file_size: int
    status_calls: int  # timed status calls per trial (the trial's figure is their median)
    startup_calls: int  # timed `--help` calls per tool

    @property
    def big_label(self) -> str:
        return f"{self.big_file >> 30} GiB" if self.big_file >= 1 << 30 else f"{self.big_file >> 20} MiB"


FULL = Sizes(1 << 30, 20_000, 4096, 50_000, 1024, status_calls=3, startup_calls=7)
QUICK = Sizes(256 << 20, 5_000, 4096, 10_000, 1024, status_calls=3, startup_calls=3)


# -- generated data ------------------------------------------------------------------------------


def write_random_file(path: Path, size: int, seed: int) -> None:
    """``size`` random bytes (the same for the same seed) in ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = min(left, 64 << 20)
            fh.write(rng.randbytes(chunk))
            left -= chunk


def small_file_name(index: int) -> str:
    return f"{index // FILES_PER_FOLDER:03d}/{index:06d}.bin"


def write_small_files(folder: Path, count: int, size: int, seed: int) -> None:
    """``count`` files of ``size`` distinct random bytes each, 1,000 per subfolder."""
    rng = random.Random(seed)
    for start in range(0, count, FILES_PER_FOLDER):
        sub = folder / f"{start // FILES_PER_FOLDER:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        for index in range(start, min(count, start + FILES_PER_FOLDER)):
            (sub / f"{index:06d}.bin").write_bytes(rng.randbytes(size))


def tree_stats(folder: Path) -> tuple[int, int]:
    """(regular files, total bytes) under ``folder``, temporary (dot) files excluded."""
    files = size = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            if not name.startswith("."):
                files += 1
                size += os.stat(os.path.join(parent, name)).st_size
    return files, size


class Scratch:
    """Deleting trial folders, and waiting for the disk to get over deletions.

    On ext4 *without a journal* (this VM's disk) the kernel does not reuse an inode freed in
    the last 60 s, or in the last 6 minutes when its inode-table block is dirty, which the
    creation of a neighbouring inode makes it (``recently_deleted()`` in fs/ext4/ialloc.c);
    and every file created meanwhile checks the free inodes of its block group one by one,
    from the first. Right after 20,000 deletions, ``cp -r`` of 20,000 small files took 10.8 s
    instead of 1.6-2.3 s; checkout and push of 50,000 files took 35-48 s for either tool. So
    folders holding many files are not deleted after each trial but at the end of the run
    (:meth:`purge`), and :meth:`settle` makes commands that create many files wait until the
    last mass deletion (by this run, or just before it: unknown, so the start counts as one)
    is over 6 minutes old.
    """

    RECENT_SECONDS = 370.0

    def __init__(self) -> None:
        self.pending: list[Path] = []
        self.last_mass_delete = time.monotonic()

    def settle(self, creates_files: bool) -> None:
        """Write back everything dirty (so the next timed command does not pay for it); before
        a command that creates many files, also wait out the window after a mass deletion."""
        os.sync()
        wait = self.last_mass_delete + self.RECENT_SECONDS - time.monotonic()
        if creates_files and wait > 0:
            log(f"  (waiting {wait:.0f} s: until the last mass deletion is {self.RECENT_SECONDS:.0f} s old)")
            time.sleep(wait)
            os.sync()

    def dispose(self, folder: Path, many_files: bool) -> None:
        if many_files:
            self.pending.append(folder)
        else:
            harness.remove_dir(folder)

    def purge(self) -> None:
        """Delete the folders kept back (slow here: online discard, up to ~1 ms per file)."""
        if not self.pending:
            return
        log(f"[cleanup] deleting {len(self.pending)} trial folders")
        started = time.monotonic()
        for folder in self.pending:
            harness.remove_dir(folder)
        self.pending.clear()
        os.sync()
        self.last_mass_delete = time.monotonic()
        log(f"  deleted in {self.last_mass_delete - started:.0f} s")


SCRATCH = Scratch()


def settle(creates_files: bool = False) -> None:
    SCRATCH.settle(creates_files)


def copy_folder(source: Path, dest: Path, label: str, index: int) -> float:
    """Time ``cp -r`` of ``source`` to ``dest`` (then removed with the trial): the floor of
    creating the same files, after the same settling as the tools' timed commands."""
    settle(creates_files=True)
    seconds = harness.time_command(["cp", "-r", str(source), str(dest)])
    log(f"  [{label} {index + 1}] cp -r: {seconds:.3f} s")
    return seconds


# -- the two tools ------------------------------------------------------------------------------


@dataclass
class Project:
    """One trial's project of one tool, in its own temporary folder."""

    tool: Tool
    folder: Path  # the temporary folder (removed after the trial)
    root: Path  # the project inside it

    def run(self, args: Sequence[str]) -> tuple[float, str]:
        """Run the tool's CLI with ``args`` in the project: (wall-clock seconds, output)."""
        return harness.run_command([*self.tool.cli, *args], cwd=self.root, env=self.tool.env(self.folder))

    def timed(self, args: Sequence[str], creates_files: bool = False) -> tuple[float, str]:
        """:meth:`run`, after :func:`settle` (``creates_files``: the command creates many files)."""
        settle(creates_files)
        return self.run(args)


class Tool:
    name = ""
    cli: list[str]
    store: str  # the local object store, relative to the project
    add_args: tuple[str, ...]
    status_args: tuple[str, ...]
    checkout_args: tuple[str, ...]
    push_args: tuple[str, ...]

    def env(self, folder: Path) -> dict[str, str]:
        raise NotImplementedError

    def create(self, project: Path, folder: Path) -> None:
        raise NotImplementedError

    def remote_add_args(self, url: str) -> list[str]:
        raise NotImplementedError

    def is_clean(self, output: str) -> bool:
        raise NotImplementedError

    def is_modified(self, output: str) -> bool:
        raise NotImplementedError

    @contextmanager
    def project(self, label: str, many_files: bool = False) -> Iterator[Project]:
        """A fresh project in a fresh folder; ``many_files``: delete it at the workload's end."""
        folder = harness.fresh_dir(f"{self.name.lower()}-{label}")
        try:
            root = folder / "project"
            self.create(root, folder)
            yield Project(self, folder, root)
        finally:
            SCRATCH.dispose(folder, many_files)


class Dvc(Tool):
    name = "DVC"
    store = ".dvc/cache"
    add_args = ("add",)
    status_args = ("status",)
    checkout_args = ("checkout",)
    push_args = ("push",)

    def __init__(self, venv: Venv) -> None:
        self.cli = [str(venv.script("dvc"))]

    def env(self, folder: Path) -> dict[str, str]:
        # DVC keeps its stat cache ("state") and file-system links database in a site cache
        # dir (/var/tmp/dvc by default), keyed by repository path: keep it in the trial folder.
        return {**DVC_ENV, "DVC_SITE_CACHE_DIR": str(folder / "dvc-site-cache")}

    def create(self, project: Path, folder: Path) -> None:
        project.mkdir(parents=True)
        harness.run_command(["git", "init", "-q"], cwd=project)
        harness.run_command([*self.cli, "init", "-q"], cwd=project, env=self.env(folder))
        (project / DATA).mkdir(parents=True)

    def remote_add_args(self, url: str) -> list[str]:
        return ["remote", "add", "-d", "bench", url]

    def is_clean(self, output: str) -> bool:
        return "up to date" in output

    def is_modified(self, output: str) -> bool:
        return "modified:" in output


class Keel(Tool):
    name = "Keel"
    store = ".keel/objects"
    add_args = ("data", "add")
    status_args = ("data", "status")
    checkout_args = ("data", "checkout")
    push_args = ("push",)

    def __init__(self, snapshot: Path | None) -> None:
        self.cli = [str(KEEL_BIN)]
        self._env = {"PYTHONPATH": str(snapshot)} if snapshot is not None else {}

    def env(self, folder: Path) -> dict[str, str]:
        return dict(self._env)

    def create(self, project: Path, folder: Path) -> None:
        harness.run_command([*self.cli, "init", str(project)], cwd=folder, env=self.env(folder))
        harness.run_command(["git", "init", "-q"], cwd=project)
        (project / DATA).mkdir(parents=True, exist_ok=True)

    def remote_add_args(self, url: str) -> list[str]:
        return ["remote", "add", "bench", url, "--default"]

    def is_clean(self, output: str) -> bool:
        return ": unchanged" in output and "modified" not in output

    def is_modified(self, output: str) -> bool:
        return "1 modified" in output


# -- the benchmark -------------------------------------------------------------------------------


class Bench:
    def __init__(self, dvc: Dvc, keel: Keel, sizes: Sizes, repeats: int, quick: bool) -> None:
        self.dvc = dvc
        self.keel = keel
        self.sizes = sizes
        self.repeats = repeats
        self.quick = quick
        self.notes: list[str] = []

    def trials(
        self, label: str, trial: Callable[[Tool, int], dict[str, float]]
    ) -> dict[str, dict[str, list[float]]]:
        """``repeats`` trials of each tool, DVC then Keel, alternating: figures[tool][key]."""
        figures: dict[str, dict[str, list[float]]] = {self.dvc.name: {}, self.keel.name: {}}
        for index in range(self.repeats):
            for tool in (self.dvc, self.keel):
                result = trial(tool, index)
                shown = ", ".join(f"{k} {v:.3f} s" for k, v in result.items())
                log(f"  [{label} {index + 1}/{self.repeats}] {tool.name:4}: {shown}")
                for key, value in result.items():
                    figures[tool.name].setdefault(key, []).append(value)
        return figures

    def row(
        self,
        figures: dict[str, dict[str, list[float]]],
        key: str,
        workload: str,
        target: float,
        anchor: float,
    ) -> Row:
        full = not self.quick  # the targets are set for the full sizes only
        return Row(
            workload,
            "s",
            False,
            target if full else None,
            figures[self.keel.name][key],
            figures[self.dvc.name][key],
            peer_name="DVC",
            anchor=anchor if full else None,
        )

    # startup -----------------------------------------------------------------------------------

    def startup(self) -> list[Row]:
        calls = self.sizes.startup_calls
        log(f"[startup] `keel --help` / `dvc --help`: {calls} calls each after 1 untimed call")
        folder = harness.fresh_dir("startup")
        try:
            for tool in (self.dvc, self.keel):
                tool_help(tool, folder)  # untimed: both start from a warm page cache
            peer, keel = harness.alternate(
                calls, lambda _: tool_help(self.dvc, folder), lambda _: tool_help(self.keel, folder)
            )
        finally:
            harness.remove_dir(folder)
        log(f"  Keel {harness.median(keel):.3f} s, DVC {harness.median(peer):.3f} s")
        label = "CLI start-up: `keel --help` / `dvc --help`"
        return [Row(label, "s", False, 0.15, keel, peer, peer_name="DVC", anchor=0.16)]

    def floor_note(
        self, figures: dict[str, dict[str, list[float]]], key: str, cp_times: list[float], what: str
    ) -> None:
        """A note comparing both tools with a plain copy that creates the same files: the
        filesystem's floor under any tool that writes one file per file."""
        cp = harness.median(cp_times)
        keel = harness.median(figures[self.keel.name][key])
        dvc = harness.median(figures[self.dvc.name][key])
        self.notes.append(
            f"floor for {key}: {what} took {harness.format_value(cp, 's')} (median) — Keel {key} = "
            f"{keel / cp:.2f}× cp, DVC {key} = {dvc / cp:.2f}× cp; so no tool creating one file per "
            f"file beats DVC by more than {dvc / cp:.1f}× here"
        )
        log(f"  {self.notes[-1]}")

    # 1. add one large file ---------------------------------------------------------------------

    def add_file(self) -> list[Row]:
        size = self.sizes.big_file
        log(f"[add file] one {self.sizes.big_label} file of random bytes; `cp` of it as a reference")
        cp_times: list[float] = []

        def trial(tool: Tool, index: int) -> dict[str, float]:
            rel = f"{DATA}/big.bin"
            with tool.project("file") as project:
                write_random_file(project.root / rel, size, SEED_FILE + index)
                seconds, _ = project.timed([*tool.add_args, rel])
                _, stored = tree_stats(project.root / tool.store)
                if stored < size:
                    raise RuntimeError(f"{tool.name} add: its store holds {stored} bytes, expected ≥ {size}")
                if isinstance(tool, Keel):
                    # The reference: a plain copy of the same (just written, cached) file.
                    settle()
                    cp_times.append(
                        harness.time_command(
                            ["cp", str(project.root / rel), str(project.folder / "copy.bin")]
                        )
                    )
                    log(f"  [add file {index + 1}/{self.repeats}] cp  : {cp_times[-1]:.3f} s")
            return {"add": seconds}

        figures = self.trials("add file", trial)
        row = self.row(figures, "add", f"add one {self.sizes.big_label} file", 2.5, 7.9)
        cp = harness.median(cp_times)
        keel, dvc = row.keel_median or 0.0, row.peer_median or 0.0
        self.notes.append(
            f"reference: `cp` of the same {self.sizes.big_label} file: {harness.format_value(cp, 's')} "
            f"(median) — Keel add = {keel / cp:.2f}× cp, DVC add = {dvc / cp:.2f}× cp "
            "(PERFORMANCE.md anchor: cp 1.7 s, dvc add 7.9 s)"
        )
        log(f"  {self.notes[-1]}")
        return [row]

    # 2-4. add a folder of small files; status unchanged; status after one change --------------

    def folder(self) -> list[Row]:
        n, size, calls = self.sizes.folder_files, self.sizes.folder_file_size, self.sizes.status_calls
        log(
            f"[folder] add {n:,} × {size // 1024} KiB files; status unchanged and after one change "
            f"({calls} timed calls each, after 1 untimed status)"
        )

        cp_times: list[float] = []

        def trial(tool: Tool, index: int) -> dict[str, float]:
            rel = f"{DATA}/files"
            with tool.project("folder", many_files=True) as project:
                data = project.root / rel
                write_small_files(data, n, size, SEED_FOLDER + index)
                add, _ = project.timed([*tool.add_args, rel], creates_files=True)
                objects, _ = tree_stats(project.root / tool.store)
                if objects < n:
                    raise RuntimeError(f"{tool.name} add: {objects} objects stored, expected ≥ {n}")
                if isinstance(tool, Keel):
                    cp_times.append(copy_folder(data, project.folder / "copy", "folder", index))
                _, output = project.run(tool.status_args)  # untimed: both tools fill their caches
                clean = []
                for _ in range(calls):
                    seconds, output = project.timed(tool.status_args)
                    if not tool.is_clean(output):
                        raise RuntimeError(f"{tool.name} status should find nothing changed:\n{output}")
                    clean.append(seconds)
                changed = []
                victim = data / small_file_name(n // 2)
                for call in range(calls):
                    # The same file, new bytes of the same size each time: one file changed.
                    victim.write_bytes(random.Random(SEED_FOLDER * 7 + index * 100 + call).randbytes(size))
                    seconds, output = project.timed(tool.status_args)
                    if not tool.is_modified(output):
                        raise RuntimeError(f"{tool.name} status should find one modified file:\n{output}")
                    changed.append(seconds)
            return {"add": add, "clean": harness.median(clean), "changed": harness.median(changed)}

        figures = self.trials("folder", trial)
        label = f"{n:,} × {size // 1024} KiB files"
        self.floor_note(figures, "add", cp_times, f"`cp -r` of the same {n:,} files")
        return [
            self.row(figures, "add", f"add a folder of {label}", 2.0, 14.4),
            self.row(figures, "clean", f"status, nothing changed ({n:,} files)", 0.15, 1.32),
            self.row(figures, "changed", f"status after one file changed ({n:,} files)", 0.2, 1.36),
        ]

    # 5. checkout into an empty workspace; push to a local-folder remote --------------------------

    def checkout(self) -> list[Row]:
        n, size = self.sizes.checkout_files, self.sizes.checkout_file_size
        log(f"[checkout] {n:,} × {size // 1024} KiB files: add, move it away, checkout; push")
        methods: set[str] = set()
        cp_times: list[float] = []

        def trial(tool: Tool, index: int) -> dict[str, float]:
            rel = f"{DATA}/files"
            with tool.project("checkout", many_files=True) as project:
                data = project.root / rel
                write_small_files(data, n, size, SEED_CHECKOUT + index)
                settle()
                project.run([*tool.add_args, rel])  # untimed set-up
                # Out of the workspace without freeing 50,000 inodes (see Scratch): a rename.
                data.rename(project.folder / "moved-away")
                checkout, output = project.timed(tool.checkout_args, creates_files=True)
                if isinstance(tool, Keel):
                    methods.update(m for m in ("reflink", "hardlink", "copy") if f"({m})" in output)
                files, total = tree_stats(data)
                if (files, total) != (n, n * size):
                    raise RuntimeError(f"{tool.name} checkout wrote {files} files / {total} bytes")
                remote = project.folder / "remote"
                remote.mkdir()
                project.run(tool.remote_add_args(str(remote)))  # untimed
                push, _ = project.timed(tool.push_args, creates_files=True)
                sent, _ = tree_stats(remote)
                if sent < n:
                    raise RuntimeError(f"{tool.name} push: the remote holds {sent} files, expected ≥ {n}")
                if isinstance(tool, Keel):
                    cp_times.append(copy_folder(data, project.folder / "copy", "checkout", index))
            return {"checkout": checkout, "push": push}

        figures = self.trials("checkout", trial)
        label = f"{n:,} × {size // 1024} KiB files"
        self.floor_note(figures, "checkout", cp_times, f"`cp -r` of the same {n:,} files")
        self.floor_note(figures, "push", cp_times, f"`cp -r` of the same {n:,} files")
        self.notes.append(
            f"checkout: Keel put files in place by {'/'.join(sorted(methods)) or '?'} (data_link auto); "
            "DVC's default cache.type (reflink, copy) copies on this filesystem too"
        )
        return [
            self.row(figures, "checkout", f"checkout {label} into an empty folder", 3.0, 16.4),
            self.row(figures, "push", f"push {label} to a local-folder remote", 3.0, 14.4),
        ]


def tool_help(tool: Tool, folder: Path) -> float:
    return harness.time_command([*tool.cli, "--help"], cwd=folder, env=tool.env(folder))


def filesystem_of(path: Path) -> str:
    """The filesystem of the mount holding ``path``: its type, and for ext4 whether it has a
    journal and discards online (both change how fast files are created and deleted)."""
    best, found = "", ("?", "?", "")
    resolved = str(path.resolve())
    try:
        lines = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "?"
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or len(parts[1]) < len(best):
            continue
        if resolved == parts[1] or resolved.startswith(parts[1].rstrip("/") + "/"):
            best, found = parts[1], (parts[0], parts[2], parts[3])
    device, kind, options = found
    details = []
    if kind == "ext4":
        try:
            task = (Path("/sys/fs/ext4") / Path(device).name / "journal_task").read_text().strip()
            details.append("no journal" if task == "<none>" else "journal")
        except OSError:
            pass
        if "discard" in options.split(","):
            details.append("online discard")
    return f"{kind}, {', '.join(details)}" if details else kind


WORKLOADS = ("startup", "file", "folder", "checkout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="256 MiB, 5,000 and 10,000 files, 1 repeat (no targets)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="trials per tool (default 3, --quick 1)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--json", type=Path, help="also write every trial's figure as JSON to this file")
    parser.add_argument(
        "--only", default=",".join(WORKLOADS), help=f"comma-separated workloads (default: all of {WORKLOADS})"
    )
    parser.add_argument("--dvc", default=DVC_REQUIREMENT, help=f"pip requirement (default {DVC_REQUIREMENT})")
    parser.add_argument(
        "--keel-from-checkout",
        action="store_true",
        help="run Keel from src/ as it is, not from a compiled snapshot (debugging only: every "
        "command then also pays for compiling Keel's modules)",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for other running benchmarks to finish"
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = QUICK if args.quick else FULL
    chosen = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {WORKLOADS}")
    harness.drop_keel_settings()

    scratch = Path(tempfile.gettempdir())
    free = shutil.disk_usage(scratch).free
    # A large-file trial holds the file, DVC's cache copy or Keel's object and cp's copy; the
    # many-file trials stay until the end (see Scratch): the folder trials 2 copies of every
    # file, the checkout trials 4 (moved-away data, checkout, store, remote), 4 KiB blocks each.
    kept = 2 * repeats * (2 * sizes.folder_files + 4 * sizes.checkout_files) * 4096
    needed = 3 * sizes.big_file + kept + (1 << 30)
    log(f"[setup] scratch folder {scratch} ({filesystem_of(scratch)}): {free / (1 << 30):.1f} GiB free")
    if free < needed:
        raise SystemExit(
            f"{scratch} has {free / (1 << 30):.1f} GiB free; this benchmark needs about "
            f"{needed / (1 << 30):.1f} GiB (set TMPDIR to a folder on a bigger disk, or use --quick)"
        )

    dvc_venv = harness.ensure_venv("dvc", [args.dvc])
    if not args.no_wait:
        harness.wait_for_quiet_machine()
    if args.keel_from_checkout:
        snapshot = None
        log(f"[setup] Keel from {PROJECT_ROOT / 'src'} (not compiled: figures include compiling)")
    else:
        from bench_tracking import keel_snapshot

        snapshot, digest = keel_snapshot()
        log(f"[setup] Keel code {digest[:12]} from {PROJECT_ROOT / 'src' / 'keel'}")
    log(f"[setup] Python {platform.python_version()}, {os.cpu_count()} CPUs")
    bench = Bench(Dvc(dvc_venv), Keel(snapshot), sizes, repeats, args.quick)

    rows: list[Row] = []
    steps: dict[str, Callable[[], list[Row]]] = {
        "startup": bench.startup,
        "file": bench.add_file,
        "folder": bench.folder,
        "checkout": bench.checkout,
    }
    try:
        for name in WORKLOADS:
            if name in chosen:
                rows.extend(steps[name]())
    finally:
        SCRATCH.purge()

    notes = [
        f"peer: {args.dvc}; {repeats} trial(s) per tool, DVC and Keel alternating, each in a fresh "
        "temporary project with freshly generated identical data; every figure is one whole CLI "
        "command (fresh process, wall clock); ratio = how many times faster Keel is",
        f"scratch: {scratch} ({filesystem_of(scratch)}); data is sync-ed before each timed command, "
        "the page cache is not dropped",
        f"status: median of {sizes.status_calls} calls per trial, after one untimed call; "
        "'one file changed': the same file rewritten with new bytes of the same size before each call",
        *bench.notes,
    ]
    if args.quick:
        notes.append("--quick: smaller data than PERFORMANCE.md's workloads, so no targets apply")
    else:
        notes.append(
            "target: PERFORMANCE.md's absolute figure and, in brackets, the ratio it implies against "
            "DVC's anchor there; the verdict judges that ratio (absolute figures are a guide)"
        )
    harness.report(rows, notes, args.markdown, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
