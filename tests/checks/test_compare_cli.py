"""`keel check compare`: a serving-like table against the training data, end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_keel


def track_as_v1(project: Path, path: str) -> None:
    """Make ``project`` a git repository whose commit tagged v1 tracks ``path``."""
    from tests.data.conftest import git

    git(project, "init", "-q")
    git(project, "config", "user.email", "test@keel.invalid")
    git(project, "config", "user.name", "Keel tests")
    assert run_keel("data", "add", path, cwd=project).returncode == 0
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "v1")
    git(project, "tag", "v1")


def test_compare_reports_shift_new_values_and_nulls(project: Path, iris: Any) -> None:
    X, y = iris
    data = project / "data"
    data.mkdir(exist_ok=True)
    train = X.assign(kind=y.map({0: "setosa", 1: "versicolor", 2: "virginica"}))
    train.to_csv(data / "train.csv", index=False)
    train.sample(100, random_state=1).to_csv(data / "same.csv", index=False)
    same = run_keel(
        "check", "compare", "data/same.csv", "--reference", "data/train.csv", "--json", cwd=project
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert json.loads(same.stdout)["status"] in ("passed", "warned")

    served = train.copy()
    served["sepal length (cm)"] += 3.0  # every value beyond the training range: fails, and shifts
    served.loc[:29, "petal width (cm)"] = None  # 20% nulls where training had none
    served.loc[0, "kind"] = "rosa"  # a category training never saw
    served.to_csv(data / "served.csv", index=False)
    shifted = run_keel(
        "check", "compare", "data/served.csv", "--reference", "data/train.csv", "--json", cwd=project
    )
    assert shifted.returncode == 1
    body = json.loads(shifted.stdout)
    failed = {
        (r["column"], r["rule"]) for r in body["results"] if not r["passed"] and r["severity"] == "fail"
    }
    assert failed == {
        ("sepal length (cm)", "out_of_range"),
        ("petal width (cm)", "missing_rate"),
        ("kind", "new_categories"),
    }
    warned = {
        (r["column"], r["rule"]) for r in body["results"] if not r["passed"] and r["severity"] == "warn"
    }
    assert ("sepal length (cm)", "distribution (PSI)") in warned
    assert body["run_id"] and body["kind"] == "compare"

    narrow = run_keel(
        "check", "compare", "data/served.csv", "--reference", "data/train.csv",
        "--columns", "sepal width (cm)", "--drift-fails", "--no-record", "--json", cwd=project,
    )  # fmt: skip
    assert narrow.returncode == 0 and json.loads(narrow.stdout)["run_id"] is None
    text = run_keel("check", "compare", "data/served.csv", "--reference", "data/train.csv", cwd=project)
    assert "'rosa'" in text.stdout and "row None" not in text.stdout

    for args, message in (
        (("check", "compare", "data/none.csv", "--reference", "data/train.csv"), "does not exist"),
        (
            ("check", "compare", "data/served.csv", "--reference", "data/train.csv", "--psi-threshold", "-1"),
            "-1",
        ),
        (
            ("check", "compare", "data/served.csv", "--reference", "data/train.csv", "--columns", "nope"),
            "nope",
        ),
        (
            ("check", "compare", "data/served.csv", "--reference", "data/train.csv", "--columns", ","),
            "names no column",
        ),
    ):
        result = run_keel(*args, cwd=project)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr


def test_compare_with_the_reference_as_recorded_at_a_git_revision(project: Path, iris: Any) -> None:
    X, _ = iris
    data = project / "data"
    data.mkdir(exist_ok=True)
    X.to_csv(data / "train.csv", index=False)
    track_as_v1(project, "data/train.csv")
    (X + 5.0).to_csv(data / "train.csv", index=False)  # the training data moved on
    assert run_keel("data", "add", "data/train.csv", cwd=project).returncode == 0
    X.sample(60, random_state=2).to_csv(data / "served.csv", index=False)
    now = run_keel(
        "check", "compare", "data/served.csv", "--reference", "data/train.csv", "--json", cwd=project
    )
    assert now.returncode == 1  # against today's reference everything is out of range
    then = run_keel(
        "check", "compare", "data/served.csv", "--reference", "data/train.csv", "--reference-rev", "v1",
        "--json", cwd=project,
    )  # fmt: skip
    assert then.returncode == 0, then.stdout + then.stderr
    assert json.loads(then.stdout)["spec"] == "data/train.csv@v1"
    missing = run_keel(
        "check", "compare", "data/served.csv", "--reference", "data/served.csv", "--reference-rev", "v1",
        cwd=project,
    )  # fmt: skip
    assert missing.returncode in (2, 3) and "Traceback" not in missing.stderr


def test_compare_reads_a_dataset_version_once_and_shares_its_sketch_with_monitoring(
    project: Path, iris: Any, monkeypatch: Any
) -> None:
    from keel.checks import data_api
    from keel.checks.compare_api import check_compare
    from keel.core.workspace import open_workspace
    from keel.monitor.reference import file_reference
    from keel.tracking.session import session_for_workspace

    X, _ = iris
    data = project / "data"
    data.mkdir(exist_ok=True)
    X.to_csv(data / "train.csv", index=False)
    X.sample(60, random_state=3).to_csv(data / "served.csv", index=False)
    track_as_v1(project, "data/train.csv")

    reads: list[str] = []
    read_data, read_data_at = data_api.read_data, data_api.read_data_at

    def counted(path: Path) -> Any:
        reads.append(Path(path).name)
        return read_data(path)

    def counted_at(path: Path, rev: str) -> Any:
        reads.append(f"{Path(path).name}@{rev}")
        return read_data_at(path, rev)

    monkeypatch.setattr(data_api, "read_data", counted)
    monkeypatch.setattr(data_api, "read_data_at", counted_at)

    first = check_compare("data/served.csv", "data/train.csv")
    assert reads == ["served.csv", "train.csv"]
    again = check_compare("data/served.csv", "data/train.csv")
    assert reads[2:] == ["served.csv"]  # the reference's sketch came from the cache
    assert again.to_dict()["results"] == first.to_dict()["results"]
    assert again.measured["reference_rows"] == len(X)

    workspace = open_workspace()
    reference = file_reference(workspace, session_for_workspace(workspace), "data/train.csv")
    assert reads[3:] == [] and reference.sketch.rows == len(X)  # monitoring finds the same sketch

    (X + 5.0).to_csv(data / "train.csv", index=False)  # a new version is sketched anew
    moved = check_compare("data/served.csv", "data/train.csv")
    assert reads[3:] == ["served.csv", "train.csv"] and not moved.passed
    then = check_compare("data/served.csv", "data/train.csv", reference_rev="v1")
    assert reads[5:] == ["served.csv"]  # v1 is the version sketched first: no read of the store either
    assert then.to_dict()["results"] == first.to_dict()["results"]


def test_the_same_bytes_read_as_another_format_are_sketched_apart(project: Path) -> None:
    from keel.checks.compare_api import check_compare

    data = project / "data"
    data.mkdir(exist_ok=True)
    rows = "a\tb\n" + "".join(f"{i}\t{i % 3}\n" for i in range(50))
    (data / "ref.csv").write_text(rows)  # tab-separated text named .csv: one column
    (data / "ref.tsv").write_text(rows)
    (data / "cur.tsv").write_text(rows)
    as_csv = check_compare("data/cur.tsv", "data/ref.csv")
    as_tsv = check_compare("data/cur.tsv", "data/ref.tsv")
    assert not as_csv.passed  # the columns a and b are not in a one-column reference
    assert as_tsv.passed


def test_a_dry_compare_works_when_the_metadata_store_cannot_be_reached(project: Path, iris: Any) -> None:
    """The sketch cache is only a cache: without it, --no-record needs no store."""
    X, _ = iris
    data = project / "data"
    data.mkdir(exist_ok=True)
    X.to_csv(data / "train.csv", index=False)
    X.to_csv(data / "served.csv", index=False)
    unreachable = {"KEEL_DB_URL": "postgresql+psycopg://keel@127.0.0.1:9/none"}  # port 9: nothing listens
    result = run_keel(
        "check",
        "compare",
        "data/served.csv",
        "--reference",
        "data/train.csv",
        "--no-record",
        "--json",
        cwd=project,
        env=unreachable,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"]
