"""Sharing data through remotes: a folder and an S3-compatible server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import run_keel, start_keel
from tests.data.conftest import S3_ENV, git, make_bucket, write_files


def _dataset(repo: Path, count: int = 40) -> None:
    write_files(
        repo / "data" / "raw", {f"part{i // 10}/f{i}.txt": f"row {i}\n" * (i + 1) for i in range(count)}
    )
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "data v1")


def _clone(repo: Path, dest: Path) -> Path:
    git(repo.parent, "clone", "-q", str(repo), str(dest))
    return dest


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_push_and_pull_through_a_folder_remote(repo: Path, tmp_path: Path) -> None:
    _dataset(repo)
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "origin", str(remote), cwd=repo).returncode == 0
    listed = json.loads(run_keel("remote", "list", "--json", cwd=repo).stdout)
    assert listed == [{"name": "origin", "url": str(remote), "default": True, "options": {}}]
    git(repo, "commit", "-q", "-am", "remote")
    pushed = json.loads(run_keel("push", "--json", cwd=repo).stdout)
    assert pushed["transferred"] > 40 and pushed["present"] == 0
    again = json.loads(run_keel("push", "--json", cwd=repo).stdout)
    assert again["transferred"] == 0  # only missing objects move
    assert json.loads(run_keel("data", "verify", "--remote", "--json", cwd=repo).stdout)["ok"]

    teammate = _clone(repo, tmp_path / "teammate")
    assert not (teammate / "data" / "raw" / "part0").exists()
    status = json.loads(run_keel("data", "status", "--json", cwd=teammate).stdout)
    assert status[0]["state"] in ("missing", "not_local")
    pulled = run_keel("pull", "--json", cwd=teammate)
    assert pulled.returncode == 0, pulled.stderr
    assert _tree_bytes(teammate / "data" / "raw") == _tree_bytes(repo / "data" / "raw")
    assert json.loads(run_keel("data", "status", "--json", cwd=teammate).stdout)[0]["state"] == "unchanged"

    # The teammate changes the data and shares it back.
    (teammate / "data" / "raw" / "part0" / "f0.txt").write_text("fixed\n")
    assert run_keel("data", "add", "data/raw", cwd=teammate).returncode == 0
    git(teammate, "commit", "-q", "-am", "fix f0")
    assert run_keel("push", cwd=teammate).returncode == 0
    git(teammate, "push", "-q", "origin", "HEAD:refs/heads/fix")
    git(repo, "checkout", "-q", "fix")
    checked = run_keel("data", "checkout", cwd=repo)  # fetches the missing object from the remote
    assert checked.returncode == 0, checked.stderr
    assert (repo / "data" / "raw" / "part0" / "f0.txt").read_text() == "fixed\n"


def test_corruption_is_caught_and_repaired(repo: Path, tmp_path: Path) -> None:
    _dataset(repo, 12)
    assert run_keel("remote", "add", "origin", str(tmp_path / "remote"), cwd=repo).returncode == 0
    assert run_keel("push", cwd=repo).returncode == 0
    import keel.objects.object_store as object_store

    store = object_store.ObjectStore(repo / ".keel" / "objects")
    lock = (repo / "keel.lock").read_text()
    victim = next(oid for oid in store.iter_oids() if oid not in lock)
    path = store.path(victim)
    path.chmod(0o644)
    path.write_bytes(b"bit rot")
    report = run_keel("data", "verify", "--json", cwd=repo)
    assert report.returncode == 5
    corrupt = json.loads(report.stdout)["corrupt"]
    assert [c["oid"] for c in corrupt] == [victim]
    assert corrupt[0]["path"].startswith("data/raw/part")
    human = run_keel("data", "verify", cwd=repo)
    assert "keel pull --force" in human.stdout
    pulled = run_keel("pull", "--force", "--json", cwd=repo)
    assert pulled.returncode == 0, pulled.stderr
    repaired = json.loads(pulled.stdout)
    assert repaired["repaired"] == [victim]
    assert run_keel("data", "verify", cwd=repo).returncode == 0
    # An object missing from the remote is reported too.
    remote_copy = tmp_path / "remote" / victim[:2] / victim[2:]
    remote_copy.chmod(0o644)
    remote_copy.unlink()
    remote_report = run_keel("data", "verify", "--remote", "--json", cwd=repo)
    assert remote_report.returncode == 5
    assert [m["oid"] for m in json.loads(remote_report.stdout)["missing"]] == [victim]


def test_a_push_killed_midway_leaves_no_partial_object_and_resumes(repo: Path, tmp_path: Path) -> None:
    write_files(repo / "data" / "big", {f"f{i}.bin": os.urandom(1 << 20) for i in range(60)})
    assert run_keel("data", "add", "data/big", cwd=repo).returncode == 0
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "origin", str(remote), cwd=repo).returncode == 0
    proc = start_keel(
        "push",
        cwd=repo,
        env={"KEEL_JOBS": "1"},  # slow enough to be caught midway
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        shards = [p for p in remote.glob("*/*") if not p.name.startswith(".")] if remote.exists() else []
        if len(shards) >= 5:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    from keel.core.hashing import hash_file

    finished = [p for p in remote.glob("*/*") if not p.name.startswith(".")]
    assert 0 < len(finished) < 61
    for obj in finished:  # whatever is on the remote is whole
        assert hash_file(obj) == obj.parent.name + obj.name
    resumed = json.loads(run_keel("push", "--json", cwd=repo).stdout)
    assert resumed["present"] == len(finished)
    assert resumed["present"] + resumed["transferred"] == 61
    assert json.loads(run_keel("data", "verify", "--remote", "--json", cwd=repo).stdout)["ok"]


def test_a_pull_killed_midway_resumes(repo: Path, tmp_path: Path) -> None:
    write_files(repo / "data" / "big", {f"f{i}.bin": os.urandom(1 << 20) for i in range(40)})
    assert run_keel("data", "add", "data/big", cwd=repo).returncode == 0
    assert run_keel("remote", "add", "origin", str(tmp_path / "remote"), cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "big")
    assert run_keel("push", cwd=repo).returncode == 0
    clone = _clone(repo, tmp_path / "clone")
    proc = start_keel(
        "pull",
        cwd=clone,
        env={"KEEL_JOBS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    objects = clone / ".keel" / "objects"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(objects.glob("*/*"))) < 6:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    result = run_keel("pull", cwd=clone)
    assert result.returncode == 0, result.stderr
    assert _tree_bytes(clone / "data" / "big") == _tree_bytes(repo / "data" / "big")
    assert run_keel("data", "verify", cwd=clone).returncode == 0


def test_gc_keeps_what_branches_and_runs_use(repo: Path, tmp_path: Path) -> None:
    _dataset(repo, 5)
    git(repo, "branch", "v1")
    (repo / "data" / "raw" / "part0" / "f0.txt").write_text("v2\n")
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    git(repo, "commit", "-q", "-am", "v2")
    (repo / "data" / "raw" / "part0" / "f0.txt").write_text("never committed\n")
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0  # keel.lock changed, not committed
    git(repo, "checkout", "-q", "keel.lock")  # forget that version: its objects are garbage
    track = run_keel(
        "track", "--", sys.executable, "-c", "import keel; keel.log_text('artifact', 'a.txt')", cwd=repo
    )
    assert track.returncode == 0, track.stderr
    env = {"KEEL_GC_GRACE_HOURS": "0"}
    dry = json.loads(run_keel("gc", "--dry-run", "--json", cwd=repo, env=env).stdout)
    assert dry["deleted"] == 3 and dry["dry_run"]  # the forgotten file and the two trees above it
    young = json.loads(run_keel("gc", "--json", cwd=repo).stdout)
    assert young["deleted"] == 0 and young["young"] == 3  # the grace period protects fresh objects
    done = json.loads(run_keel("gc", "--json", cwd=repo, env=env).stdout)
    assert done["deleted"] == 3
    assert run_keel("data", "verify", cwd=repo).returncode == 0
    assert run_keel("data", "checkout", "--rev", "v1", "--force", cwd=repo).returncode == 0  # v1 still works
    runs = json.loads(run_keel("runs", "list", "--json", cwd=repo).stdout)
    artifact = run_keel("runs", "artifact", runs[0]["id"], "a.txt", "-o", str(tmp_path / "a.txt"), cwd=repo)
    assert artifact.returncode == 0 and (tmp_path / "a.txt").read_text() == "artifact"
    workspace_only = json.loads(run_keel("gc", "--workspace-only", "--json", cwd=repo, env=env).stdout)
    assert workspace_only["deleted"] > 0  # v1's objects go when only the workspace counts


def test_s3_remote_push_clone_pull(repo: Path, tmp_path: Path, s3_endpoint: str) -> None:
    make_bucket(s3_endpoint, "team-data")
    _dataset(repo, 25)
    added = run_keel(
        "remote",
        "add",
        "s3",
        "s3://team-data/keel",
        "-o",
        f"endpoint_url={s3_endpoint}",
        cwd=repo,
        env=S3_ENV,
    )
    assert added.returncode == 0, added.stderr
    assert f"endpoint_url: {s3_endpoint}" in (repo / "keel.yaml").read_text()
    git(repo, "commit", "-q", "-am", "s3 remote")
    pushed = run_keel("push", "--json", cwd=repo, env=S3_ENV)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["transferred"] > 25
    assert json.loads(run_keel("push", "--json", cwd=repo, env=S3_ENV).stdout)["transferred"] == 0
    teammate = _clone(repo, tmp_path / "teammate")
    pulled = run_keel("pull", cwd=teammate, env=S3_ENV)
    assert pulled.returncode == 0, pulled.stderr
    assert _tree_bytes(teammate / "data" / "raw") == _tree_bytes(repo / "data" / "raw")
    verified = run_keel("data", "verify", "--remote", "--json", cwd=teammate, env=S3_ENV)
    assert json.loads(verified.stdout)["ok"]
    # a bucket that does not exist is the remote's problem, said in one line (exit 6)
    missing = run_keel(
        "remote",
        "add",
        "gone",
        "s3://no-such-bucket/keel",
        "-o",
        f"endpoint_url={s3_endpoint}",
        cwd=repo,
        env=S3_ENV,
    )
    assert missing.returncode == 0, missing.stderr
    refused = run_keel("push", "-r", "gone", cwd=repo, env=S3_ENV)
    assert refused.returncode == 6, refused.stderr
    assert "the bucket does not exist" in refused.stderr and "internal error" not in refused.stderr


def test_s3_wrong_credentials_and_unreachable_endpoint(repo: Path, strict_s3_endpoint: str) -> None:
    _dataset(repo, 3)
    assert (
        run_keel(
            "remote",
            "add",
            "strict",
            "s3://locked/keel",
            "-o",
            f"endpoint_url={strict_s3_endpoint}",
            cwd=repo,
        ).returncode
        == 0
    )
    wrong = run_keel("push", "--json", cwd=repo, env={**S3_ENV, "AWS_ACCESS_KEY_ID": "AKIAWRONGWRONGWRONG1"})
    assert wrong.returncode == 6, wrong.stdout + wrong.stderr
    envelope = json.loads(wrong.stderr)
    assert envelope["error"]["code"] == "remote_unavailable"
    assert "credentials" in envelope["error"]["message"] or "refused" in envelope["error"]["message"]
    assert (
        run_keel(
            "remote", "add", "gone", "s3://x/keel", "-o", "endpoint_url=http://127.0.0.1:9", cwd=repo
        ).returncode
        == 0
    )
    env = {**S3_ENV, "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}
    down = run_keel("push", "--remote", "gone", cwd=repo, env=env, timeout=180)
    assert down.returncode == 6
    line = down.stderr.strip().splitlines()
    assert len(line) == 1 and "Remote gone" in line[0] and "Traceback" not in down.stderr
    missing = run_keel("push", "--remote", "nope", cwd=repo)
    assert missing.returncode == 3 and "No remote named 'nope'" in missing.stderr


def test_gc_on_a_remote(repo: Path, tmp_path: Path) -> None:
    _dataset(repo, 4)
    git(repo, "tag", "v1")  # keeps v1's data referenced
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "origin", str(remote), cwd=repo).returncode == 0
    assert run_keel("push", cwd=repo).returncode == 0
    (repo / "data" / "raw" / "part0" / "f0.txt").write_text("new\n")
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    assert run_keel("push", cwd=repo).returncode == 0
    git(repo, "commit", "-q", "-am", "v2")
    env = {"KEEL_GC_GRACE_HOURS": "0"}
    kept = json.loads(run_keel("gc", "-r", "origin", "--json", cwd=repo, env=env).stdout)
    assert kept["deleted"] == 0  # v1 (tag) and v2 (branch) are both referenced
    everything = len([p for p in remote.glob("*/*") if not p.name.startswith(".")])
    workspace_only = json.loads(
        run_keel("gc", "-r", "origin", "--workspace-only", "--json", cwd=repo, env=env).stdout
    )
    assert workspace_only["deleted"] == 3  # v1's f0 and the two trees above it
    assert len([p for p in remote.glob("*/*") if not p.name.startswith(".")]) == everything - 3
    assert json.loads(run_keel("data", "verify", "--remote", "--json", cwd=repo).stdout)["ok"]


def test_folder_remote_with_link_shares_objects(repo: Path, tmp_path: Path) -> None:
    _dataset(repo, 6)
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "fast", str(remote), "-o", "link=true", cwd=repo).returncode == 0
    assert "link: true" in (repo / "keel.yaml").read_text()
    git(repo, "commit", "-q", "-am", "fast remote")
    assert run_keel("push", cwd=repo).returncode == 0
    local = sorted((repo / ".keel" / "objects").glob("*/*"))
    shared = [p for p in local if (remote / p.parent.name / p.name).exists()]
    assert shared and all((remote / p.parent.name / p.name).stat().st_ino == p.stat().st_ino for p in shared)
    teammate = _clone(repo, tmp_path / "teammate")
    assert run_keel("pull", cwd=teammate).returncode == 0
    assert _tree_bytes(teammate / "data" / "raw") == _tree_bytes(repo / "data" / "raw")


def test_push_and_pull_on_a_local_store_load_no_sqlalchemy(repo: Path, tmp_path: Path) -> None:
    """What push and pull share besides tracked data (run artifacts, model packages) is read
    with plain SQL: a push of a SQLite project does not pay SQLAlchemy's import."""
    from tests.conftest import run_python

    _dataset(repo)
    assert run_keel("remote", "add", "origin", str(tmp_path / "remote"), cwd=repo).returncode == 0
    probe = (
        "import sys\nfrom keel.cli.main import main\n"
        "for args in (['push'], ['pull']):\n"
        "    try:\n        main(args)\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))"
    )
    result = run_python(probe, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert len(list((tmp_path / "remote").rglob("*"))) > 40  # the objects went out


def test_a_folder_push_and_pull_move_every_object_on_the_calling_thread(repo: Path, tmp_path: Path) -> None:
    """Folder remotes are written and read one object after another (threads measured
    slower), every object arrives intact, and the progress adds up."""
    import threading

    from keel.data.context import open_data
    from keel.data.lockfile import read_lock
    from keel.data.transfer import fetch, push
    from keel.objects.remote import FolderRemote

    _dataset(repo, count=200)
    ctx = open_data(repo)
    versions = list(read_lock(repo).versions().values())
    remote = FolderRemote("shared", str(tmp_path / "remote"), tmp_path / "remote")
    threads: set[str] = set()
    upload, read_small = remote.upload, remote.read_small

    def noted_upload(oid: str, local: str | Path, size: int | None = None) -> None:
        threads.add(threading.current_thread().name)
        upload(oid, local, size)

    def noted_read(oid: str) -> bytes | None:
        threads.add(threading.current_thread().name)
        return read_small(oid)

    remote.upload, remote.read_small = noted_upload, noted_read  # type: ignore[method-assign]
    counted: list[int] = []
    result = push(ctx, remote, versions, lambda total: counted.append)
    assert result.transferred == len(remote.list_oids()) == sum(counted) > 200

    store = repo / ".keel" / "objects"
    os.rename(store, tmp_path / "old-store")
    pulled: list[int] = []
    fetched = fetch(open_data(repo), remote, versions, progress_start=lambda total: pulled.append)
    assert threads == {threading.current_thread().name}
    old = _tree_bytes(tmp_path / "old-store")
    new = _tree_bytes(store)
    assert len(new) == result.transferred and all(old[name] == data for name, data in new.items())
    assert sum(pulled) == fetched.transferred > 200
    assert all(not (store / name).stat().st_mode & 0o222 for name in new)  # read-only objects


def test_a_pull_refuses_an_object_the_remote_holds_corrupt(repo: Path, tmp_path: Path) -> None:
    _dataset(repo, 12)
    remote = tmp_path / "remote"
    assert run_keel("remote", "add", "origin", str(remote), cwd=repo).returncode == 0
    git(repo, "commit", "-q", "-am", "remote")
    assert run_keel("push", cwd=repo).returncode == 0
    clone = _clone(repo, tmp_path / "clone")
    lock = (repo / "keel.lock").read_text()
    victim = next(p for p in sorted(remote.rglob("*")) if p.is_file() and p.parent.name + p.name not in lock)
    victim.chmod(0o644)
    victim.write_bytes(b"bit rot")
    pulled = run_keel("pull", cwd=clone)
    assert pulled.returncode != 0 and "Traceback" not in pulled.stderr
    assert "does not match its id" in pulled.stderr and "fetch it again" in pulled.stderr
    oid = victim.parent.name + victim.name
    assert not (clone / ".keel" / "objects" / oid[:2] / oid[2:]).exists()  # never joined the store
