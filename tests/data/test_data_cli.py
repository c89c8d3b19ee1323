"""Versioning data with the real `keel` command: add, status, diff, checkout, log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_keel
from tests.data.conftest import git, write_files


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_version_change_diff_and_go_back(repo: Path) -> None:
    raw = repo / "data" / "raw"
    write_files(raw, {"a.txt": "one", "sub/b.txt": "two"})
    added = run_keel("data", "add", "data/raw", "--json", cwd=repo)
    assert added.returncode == 0, added.stderr
    v1 = json.loads(added.stdout)[0]
    assert v1["kind"] == "dir" and v1["files"] == 3 and v1["changed"]  # .gitkeep from keel init
    lock = (repo / "keel.lock").read_text()
    assert v1["oid"] in lock and "data/raw:" in lock
    assert "/data/raw" in (repo / ".gitignore").read_text().splitlines()
    assert "data/raw/a.txt" not in git(repo, "status", "--porcelain", "--untracked-files=all")
    git(repo, "add", "keel.lock", ".gitignore")
    git(repo, "commit", "-q", "-m", "v1")

    status = json.loads(run_keel("data", "status", "--json", cwd=repo).stdout)
    assert status == [{"path": "data/raw", "state": "unchanged", "added": [], "modified": [], "deleted": []}]

    (raw / "a.txt").write_text("ONE!")
    (raw / "sub" / "b.txt").unlink()
    (raw / "c.txt").write_text("three")
    status = json.loads(run_keel("data", "status", "--json", cwd=repo).stdout)[0]
    assert (status["added"], status["modified"], status["deleted"]) == (["c.txt"], ["a.txt"], ["sub/b.txt"])
    assert run_keel("data", "status", "--exit-code", cwd=repo).returncode == 1

    diff = json.loads(run_keel("data", "diff", "--json", cwd=repo).stdout)
    assert diff["summary"] == {"added": 1, "removed": 1, "modified": 1}
    assert {c["path"]: (c["old_size"], c["new_size"]) for c in diff["changes"]}["data/raw/a.txt"] == (3, 4)

    blocked = run_keel("data", "checkout", cwd=repo)
    assert blocked.returncode == 4 and "--force" in _one_line(blocked)

    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    git(repo, "commit", "-q", "-am", "v2")
    assert (
        json.loads(run_keel("data", "diff", "HEAD~1", "HEAD", "--json", cwd=repo).stdout)["summary"]
        == diff["summary"]
    )

    log = json.loads(run_keel("data", "log", "data/raw", "--json", cwd=repo).stdout)
    assert [v["subject"] for v in log] == ["v2", "v1"]
    assert log[1]["oid"] == v1["oid"]

    back = run_keel("data", "checkout", "--rev", "HEAD~1", cwd=repo)
    assert back.returncode == 0, back.stderr
    assert (raw / "a.txt").read_text() == "one"
    assert (raw / "sub" / "b.txt").read_text() == "two"
    assert not (raw / "c.txt").exists()
    assert json.loads(run_keel("data", "status", "--json", cwd=repo).stdout)[0]["state"] == "unchanged"
    assert v1["oid"] in (repo / "keel.lock").read_text()  # keel.lock now records what is checked out
    git(repo, "checkout", "-q", "keel.lock")
    forward = run_keel("data", "checkout", cwd=repo)
    assert forward.returncode == 0 and (raw / "c.txt").read_text() == "three"


def test_single_files_and_table_diffs(repo: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_files(repo / "data", {"t.csv": "id,city,amount\n1,Oslo,10.5\n2,Rome,20\n"})
    pq.write_table(pa.table({"x": [1, 2, 3], "y": ["a", "b", None]}), repo / "data" / "t.parquet")
    assert run_keel("data", "add", "data/t.csv", "data/t.parquet", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tables")
    (repo / "data" / "t.csv").write_text(
        "id,city,amount,flag\n1,Oslo,10.5,true\n2,Rome,25,false\n3,Lima,,true\n"
    )
    pq.write_table(pa.table({"x": [1.5, 2.5], "y": ["a", "a"]}), repo / "data" / "t.parquet")
    diff = json.loads(run_keel("data", "diff", "--json", cwd=repo).stdout)
    by_path = {c["path"]: c for c in diff["changes"]}
    csv_table = by_path["data/t.csv"]["table"]
    assert csv_table["rows"] == [2, 3]
    assert csv_table["columns_added"] == ["flag"]
    assert csv_table["column_changes"]["amount"]["nulls"] == [0, 1]
    assert csv_table["column_changes"]["amount"]["max"] == [20.0, 25.0]
    parquet = by_path["data/t.parquet"]["table"]
    assert parquet["rows"] == [3, 2]
    assert parquet["type_changes"] == {"x": ["int64", "double"]}
    assert parquet["column_changes"]["y"]["nulls"] == [1, 0]
    text = run_keel("data", "diff", "data/t.csv", cwd=repo)
    assert "rows 2 → 3" in text.stdout and "+ column flag" in text.stdout
    assert "t.parquet" not in text.stdout  # the path argument limits the diff


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["data", "add", "../outside"], 2, "outside the project"),
        (["data", "add", ".keel/objects"], 2, "cannot be tracked"),
        (["data", "add", "keel.yaml"], 2, "cannot be tracked"),
        (["data", "add", "data/missing"], 3, "does not exist"),
        (["data", "add", "data/empty"], 2, "empty folder"),
        (["data", "add", "data/loop"], 2, "loop"),
        (["data", "add", "data/loop", "data/loop/x"], 2, "overlap"),
        (["data", "add"], 2, "Missing argument"),
        (["data", "status", "data/untracked"], 3, "not tracked"),
        (["data", "checkout", "--rev", "no-such-branch"], 3, "No git revision"),
        (["data", "diff", "a", "b", "c", "d"], 2, "at most two revisions"),
        (["data", "log", "data/never"], 3, "never recorded"),
        (["push"], 3, "No remote configured"),
        (["remote", "add", "bad name", "/tmp/x"], 2, "not allowed"),
        (["remote", "add", "r", "s3://b/k", "-o", "secret_access_key=x"], 2, "credential"),
    ],
)
def test_bad_input(repo: Path, args: list[str], code: int, fragment: str) -> None:
    (repo / "data" / "empty").mkdir()
    (repo / "data" / "loop").mkdir()
    os.symlink(repo / "data", repo / "data" / "loop" / "up")
    before = (repo / "keel.lock").exists(), (repo / "keel.yaml").read_text()
    result = run_keel(*args, cwd=repo)
    assert result.returncode == code, result.stdout + result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert ((repo / "keel.lock").exists(), (repo / "keel.yaml").read_text()) == before  # nothing written


def test_inner_and_outer_paths_refused_once_tracked(repo: Path) -> None:
    write_files(repo / "data" / "raw", {"a/x.txt": "x"})
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    inner = run_keel("data", "add", "data/raw/a", cwd=repo)
    assert inner.returncode == 2 and "inside tracked data/raw" in _one_line(inner)
    outer = run_keel("data", "add", "data", cwd=repo)
    assert outer.returncode == 2 and "contains tracked data/raw" in _one_line(outer)


def test_two_adds_of_the_same_path_at_once(repo: Path) -> None:
    write_files(repo / "data" / "raw", {f"f{i}.bin": os.urandom(2048) for i in range(300)})
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "keel", "data", "add", "data/raw", "--json"],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("KEEL_")},
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    oids = {json.loads(out)[0]["oid"] for out, _ in outputs}
    assert len(oids) == 1
    assert oids.pop() in (repo / "keel.lock").read_text()
    verify = run_keel("data", "verify", "--json", cwd=repo)
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"]


def test_dataset_api_open_and_run_inputs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(repo / "data" / "raw", {"train.csv": "a,b\n1,2\n3,4\n"})
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    git(repo, "tag", "v1")
    (repo / "data" / "raw" / "train.csv").write_text("a,b\n1,2\n3,4\n5,6\n")
    assert run_keel("data", "add", "data/raw", cwd=repo).returncode == 0

    import keel
    from tests.conftest import reset_tracking

    monkeypatch.chdir(repo)
    try:
        folder = keel.dataset("data/raw")
        assert folder.kind == "dir" and folder.files == 2
        table = keel.dataset("data/raw/train.csv")
        assert (table.format, table.rows, table.schema) == ("csv", 3, {"a": "int64", "b": "int64"})
        old = keel.dataset("data/raw/train.csv", rev="v1")
        assert old.rows == 2 and old.rev == "v1" and old.oid != table.oid
        with keel.open("data/raw/train.csv", rev="v1", mode="r") as fh:
            assert fh.read() == "a,b\n1,2\n3,4\n"
        with keel.start_run(experiment="lineage") as run:
            keel.log_input(old)
            keel.log_output(table)
        got = keel.get_run(run.id)
        assert [(d.path, d.oid, d.rows) for d in got.inputs] == [("data/raw/train.csv", old.oid, 2)]
        assert [d.oid for d in got.outputs] == [table.oid]
        with pytest.raises(keel.InvalidInput, match="dataset version"):
            with keel.start_run():
                keel.log_input("data/raw")  # type: ignore[arg-type]
        with pytest.raises(keel.NotFound, match="not tracked"):
            keel.dataset("data/other.csv")
        with pytest.raises(keel.InvalidInput, match="mode"):
            keel.open("data/raw/train.csv", mode="w")
    finally:
        reset_tracking()


def test_hardlink_mode_adds_without_copying_and_unlock_makes_files_writable(repo: Path) -> None:
    write_files(repo / "data" / "raw", {"a.txt": "one", "b.txt": "two"})
    env = {"KEEL_DATA_LINK": "hardlink"}
    assert run_keel("data", "add", "data/raw", cwd=repo, env=env).returncode == 0
    a = repo / "data" / "raw" / "a.txt"
    assert a.stat().st_nlink == 2  # the workspace file is the stored object
    assert not a.stat().st_mode & 0o222
    assert (
        json.loads(run_keel("data", "status", "--json", cwd=repo, env=env).stdout)[0]["state"] == "unchanged"
    )
    unlocked = run_keel("data", "unlock", "data/raw", cwd=repo, env=env)
    assert unlocked.returncode == 0 and "Unlocked 3" in unlocked.stdout  # with .gitkeep
    assert a.stat().st_nlink == 1 and a.stat().st_mode & 0o200
    a.write_text("edited")
    assert run_keel("data", "verify", cwd=repo).returncode == 0  # the stored version is intact
    assert json.loads(run_keel("data", "status", "--json", cwd=repo).stdout)[0]["modified"] == ["a.txt"]
    (repo / "data" / "raw").rename(repo / "gone")
    checked = run_keel("data", "checkout", cwd=repo, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "(hardlink)" in checked.stdout and a.read_text() == "one"


def test_status_lists_many_changes_on_an_ascii_terminal(repo: Path) -> None:
    write_files(repo / "set", {f"{i:02d}.txt": str(i) for i in range(30)})
    assert run_keel("data", "add", "set", cwd=repo).returncode == 0
    for i in range(30):
        (repo / "set" / f"{i:02d}.txt").write_text(f"changed {i}")
    for env in ({"PYTHONIOENCODING": "ascii"}, {"PYTHONIOENCODING": "ascii", "KEEL_CLI_FULL": "1"}):
        result = run_keel("data", "status", cwd=repo, env=env)
        assert result.returncode == 0, result.stderr
        assert "and 10 more" in result.stdout
