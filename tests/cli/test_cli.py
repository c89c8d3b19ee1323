"""The `keel` command, run for real in subprocesses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import run_keel


def _no_traceback(result: object) -> None:
    stderr = getattr(result, "stderr", "")
    assert "Traceback" not in stderr, stderr


def _error_line(result: object) -> str:
    stderr = getattr(result, "stderr", "").strip()
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.fixture
def cli_project(tmp_path: Path) -> Path:
    result = run_keel("init", "proj", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return tmp_path / "proj"


def _track(project: Path, *args: str, code: str = "pass") -> tuple[str, object]:
    result = run_keel("track", *args, "--", sys.executable, "-c", code, cwd=project)
    run_id = result.stderr.strip().splitlines()[-1].split()[2]
    return run_id, result


def test_help_and_version(tmp_path: Path) -> None:
    result = run_keel("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("quickstart", "init", "track", "runs", "experiments", "settings", "db"):
        assert f"  {command}" in result.stdout
    assert run_keel("--version", cwd=tmp_path).stdout.startswith("keel ")
    unknown = run_keel("frobnicate", cwd=tmp_path)
    assert unknown.returncode == 2 and "No such command" in unknown.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rn"], "error: No such command 'rn'; did you mean `keel run`? (see `keel --help`)"),
        (
            ["modles", "list"],
            "error: No such command 'modles'; did you mean `keel models`? (see `keel --help`)",
        ),
        (["check", "data", "x.csv"], "error: Missing option '--schema' (see `keel check data --help`)"),
    ],
)
def test_usage_errors_are_one_line_with_the_fix(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run_keel(*args, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (2, expected)
    as_json = run_keel(*args, "--json", cwd=tmp_path)
    assert json.loads(as_json.stderr)["error"]["code"] == "usage"


def test_init_layout_refusal_and_force(tmp_path: Path, cli_project: Path) -> None:
    for folder in (
        "data/raw",
        "data/interim",
        "data/processed",
        "src",
        "configs",
        "models",
        "reports",
        "tests",
        ".keel",
    ):
        assert (cli_project / folder).is_dir(), folder
    assert (cli_project / "keel.yaml").read_text().startswith("# Keel project file")
    assert (cli_project / "params.yaml").exists()
    assert "/.keel/" in (cli_project / ".gitignore").read_text().splitlines()
    (cli_project / "params.yaml").write_text("lr: 1\n")
    again = run_keel("init", "proj", cwd=tmp_path)
    assert again.returncode == 4
    assert "already a Keel project" in _error_line(again)
    assert (cli_project / "params.yaml").read_text() == "lr: 1\n"
    forced = run_keel("init", "proj", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and "updated  keel.yaml" in forced.stdout
    assert (cli_project / ".gitignore").read_text().count("/.keel/") == 1
    (tmp_path / "afile").write_text("x")
    on_file = run_keel("init", "afile", cwd=tmp_path)
    assert on_file.returncode == 2 and "is a file" in _error_line(on_file)


def test_commands_outside_a_project_say_how_to_start(tmp_path: Path) -> None:
    result = run_keel("runs", "list", cwd=tmp_path)
    assert result.returncode == 3
    assert "run `keel init`" in _error_line(result)


def test_track_records_output_status_and_child_logging(cli_project: Path) -> None:
    code = (
        "import sys, keel\n"
        "keel.log_metric('loss', 0.5)\n"
        "keel.log_param('lr', 0.1)\n"
        "print('hello out')\n"
        "print('hello err', file=sys.stderr)\n"
    )
    run_id, result = _track(
        cli_project, "--experiment", "cli", "--name", "t1", "--tag", "k=v", "-p", "depth=3", code=code
    )
    assert result.returncode == 0, result.stderr
    assert "hello out" in result.stdout
    shown = json.loads(run_keel("runs", "show", run_id[:8], "--json", cwd=cli_project).stdout)
    assert shown["status"] == "finished" and shown["kind"] == "command"
    assert shown["experiment"] == "cli" and shown["name"] == "t1"
    assert shown["params"] == {"depth": 3, "lr": 0.1}
    assert shown["metrics"] == {"loss": 0.5}
    assert shown["tags"] == {"k": "v", "keel.exit_code": "0"}
    assert {a["name"] for a in shown["artifacts"]} == {"stdout.log", "stderr.log"}
    assert shown["context"]["command"][1:3] == ["-c", code]
    out = run_keel("runs", "artifact", run_id, "stdout.log", "-o", "out.log", cwd=cli_project)
    assert out.returncode == 0
    assert (cli_project / "out.log").read_text() == "hello out\n"


def test_track_exit_codes_and_failures(cli_project: Path) -> None:
    run_id, result = _track(cli_project, code="import sys; sys.exit(3)")
    assert result.returncode == 3
    shown = json.loads(run_keel("runs", "show", run_id, "--json", cwd=cli_project).stdout)
    assert shown["status"] == "failed" and shown["tags"]["keel.exit_code"] == "3"
    killed_id, killed = _track(cli_project, code="import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert killed.returncode == 128 + 15
    assert (
        json.loads(run_keel("runs", "show", killed_id, "--json", cwd=cli_project).stdout)["status"]
        == "killed"
    )


def test_track_bad_commands_write_nothing(cli_project: Path) -> None:
    missing = run_keel("track", "--", "no-such-program-xyz", cwd=cli_project)
    assert missing.returncode == 127
    assert "not found" in _error_line(missing)
    empty = run_keel("track", cwd=cli_project)
    assert empty.returncode == 2
    _no_traceback(empty)
    listed = json.loads(run_keel("runs", "list", "--json", cwd=cli_project).stdout)
    assert listed == []


def test_runs_list_filter_order_and_json(cli_project: Path) -> None:
    ids = {}
    for depth, acc in ((2, 0.7), (4, 0.9), (8, 0.8)):
        ids[depth], _ = _track(
            cli_project, "-p", f"depth={depth}", code=f"import keel; keel.log_metric('acc', {acc})"
        )
    table = run_keel("runs", "list", cwd=cli_project)
    assert table.returncode == 0
    assert "metrics.acc" in table.stdout and "params.depth" in table.stdout
    assert all(run_id[:8] in table.stdout for run_id in ids.values())
    filtered = json.loads(
        run_keel(
            "runs",
            "list",
            "--filter",
            "metrics.acc >= 0.8 and params.depth > 2",
            "-o",
            "metrics.acc desc",
            "--json",
            cwd=cli_project,
        ).stdout
    )
    assert [r["id"] for r in filtered] == [ids[4], ids[8]]
    limited = json.loads(run_keel("runs", "list", "-n", "1", "--json", cwd=cli_project).stdout)
    assert len(limited) == 1
    bad = run_keel("runs", "list", "--filter", "metrics.acc >> 1", cwd=cli_project)
    assert bad.returncode == 2
    assert "column 14" in _error_line(bad)
    bad_json = run_keel("runs", "list", "--filter", "metrics.acc >", "--json", cwd=cli_project)
    envelope = json.loads(bad_json.stderr)
    assert envelope["error"]["code"] == "invalid_input"
    assert envelope["error"]["details"]["position"] == 13
    bad_order = run_keel("runs", "list", "-o", "metrics.acc upwards", cwd=cli_project)
    assert bad_order.returncode == 2
    _no_traceback(bad_order)
    zero = run_keel("runs", "list", "-n", "0", cwd=cli_project)
    assert zero.returncode == 2


def test_show_compare_history_delete_restore(cli_project: Path) -> None:
    first, _ = _track(
        cli_project,
        "-p",
        "lr=0.1",
        code="import keel\nfor i in range(3): keel.log_metric('loss', 1.0 / (i + 1))",
    )
    second, _ = _track(cli_project, "-p", "lr=0.2", code="import keel; keel.log_metric('loss', 0.1)")
    show = run_keel("runs", "show", first[:8], cwd=cli_project)
    assert show.returncode == 0 and first in show.stdout and "Context" in show.stdout
    compare = json.loads(run_keel("runs", "compare", first, second, "--json", cwd=cli_project).stdout)
    assert compare["params"]["lr"] == [0.1, 0.2]
    assert compare["params_differ"] == ["lr"]
    text = run_keel("runs", "compare", first, second, "--diff-only", cwd=cli_project)
    assert "params.lr" in text.stdout and "*" in text.stdout
    single = run_keel("runs", "compare", first, cwd=cli_project)
    assert single.returncode == 2 and "at least two" in _error_line(single)
    history = json.loads(run_keel("runs", "history", first, "loss", "--json", cwd=cli_project).stdout)
    assert [p["step"] for p in history] == [0, 1, 2]
    assert history[2]["value"] == pytest.approx(1 / 3)
    no_metric = run_keel("runs", "history", first, "nope", cwd=cli_project)
    assert no_metric.returncode == 3 and "its metrics: loss" in _error_line(no_metric)
    assert run_keel("runs", "delete", first, cwd=cli_project).returncode == 0
    listed = [r["id"] for r in json.loads(run_keel("runs", "list", "--json", cwd=cli_project).stdout)]
    assert listed == [second]
    with_deleted = json.loads(run_keel("runs", "list", "--deleted", "--json", cwd=cli_project).stdout)
    assert {r["id"]: r["deleted"] for r in with_deleted} == {first: True, second: False}
    assert run_keel("runs", "restore", first, cwd=cli_project).returncode == 0
    assert len(json.loads(run_keel("runs", "list", "--json", cwd=cli_project).stdout)) == 2
    unknown = run_keel("runs", "delete", first, "0" * 32, cwd=cli_project)
    assert unknown.returncode == 3
    assert len(json.loads(run_keel("runs", "list", "--json", cwd=cli_project).stdout)) == 2  # nothing changed


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("runs", "show", "0" * 32), 3, "No run with id"),
        (("runs", "show", "zzz"), 2, "not a run id"),
        (("runs", "artifact", "0" * 32, "x"), 3, "No run with id"),
        (("runs", "list", "--experiment", "nope"), 3, "No experiment named 'nope'"),
    ],
)
def test_bad_input_one_line_errors(
    cli_project: Path, args: tuple[str, ...], code: int, fragment: str
) -> None:
    result = run_keel(*args, cwd=cli_project)
    assert result.returncode == code
    assert fragment in _error_line(result)


def test_experiments_and_settings(cli_project: Path) -> None:
    _track(cli_project, "-e", "alpha")
    found = json.loads(run_keel("experiments", "list", "--json", cwd=cli_project).stdout)
    assert [(e["name"], e["run_count"]) for e in found] == [("alpha", 1)]
    settings = json.loads(
        run_keel("settings", "--json", cwd=cli_project, env={"KEEL_FLUSH_INTERVAL": "2"}).stdout
    )
    by_name = {s["name"]: s for s in settings}
    assert by_name["flush_interval"]["value"] == 2.0 and by_name["flush_interval"]["source"] == "env"
    assert by_name["experiment"]["source"] == "file"
    secret = run_keel(
        "settings",
        "--json",
        cwd=cli_project,
        env={"KEEL_DB_URL": "postgresql+psycopg://u:hunter2@db:5432/keel"},
    )
    assert "hunter2" not in secret.stdout and "u:***@db" in secret.stdout  # never print a password
    (cli_project / "keel.yaml").write_text("settings:\n  flush_intervall: 3\n")
    broken = run_keel("settings", cwd=cli_project)
    assert broken.returncode == 2
    assert "keel.yaml:2: unknown setting 'flush_intervall'" in _error_line(broken)


def test_db_status_upgrade_and_store_errors(cli_project: Path, tmp_path: Path) -> None:
    # `keel init` created the store at the current revision.
    assert json.loads(run_keel("db", "status", "--json", cwd=cli_project).stdout)["up_to_date"] is True
    # A store nobody created yet (a fresh clone: .keel/ is local state).
    for name in ("keel.db", "keel.db-wal", "keel.db-shm"):
        (cli_project / ".keel" / name).unlink(missing_ok=True)
    status = json.loads(run_keel("db", "status", "--json", cwd=cli_project).stdout)
    assert status["dialect"] == "sqlite" and status["revision"] is None
    upgraded = run_keel("db", "upgrade", cwd=cli_project)
    from keel.store.migrate import HEAD

    assert upgraded.returncode == 0 and HEAD in upgraded.stdout
    assert json.loads(run_keel("db", "status", "--json", cwd=cli_project).stdout)["up_to_date"] is True
    down = run_keel(
        "runs", "list", cwd=cli_project, env={"KEEL_DB_URL": "postgresql+psycopg://u:secret@127.0.0.1:9/x"}
    )
    assert down.returncode == 6
    line = _error_line(down)
    assert "secret" not in line and "KEEL_DB_URL" in line
    bad_url = run_keel("runs", "list", cwd=cli_project, env={"KEEL_DB_URL": "mysql://a@b/c"})
    assert bad_url.returncode == 2 and "Keel supports" in _error_line(bad_url)
    import sqlite3

    db = sqlite3.connect(cli_project / ".keel" / "keel.db")
    db.execute("UPDATE alembic_version SET version_num = '0999'")
    db.commit()
    db.close()
    newer = run_keel("runs", "list", cwd=cli_project)
    assert newer.returncode == 7
    assert "newer than this Keel" in _error_line(newer)
    assert run_keel("db", "status", cwd=cli_project).returncode == 7


def test_cli_on_postgresql(cli_project: Path, pg_url: str) -> None:
    env = {"KEEL_DB_URL": pg_url}
    result = run_keel(
        "track",
        "-e",
        "pg",
        "--",
        sys.executable,
        "-c",
        "import keel; keel.log_metric('m', 1.5)",
        cwd=cli_project,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    listed = json.loads(run_keel("runs", "list", "--json", cwd=cli_project, env=env).stdout)
    assert [(r["experiment"], r["metrics"]) for r in listed] == [("pg", {"m": 1.5})]
    status = json.loads(run_keel("db", "status", "--json", cwd=cli_project, env=env).stdout)
    assert status["dialect"] == "postgresql" and "***" not in status["url"]


def test_init_over_a_broken_stat_cache_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "proj" / ".keel").mkdir(parents=True)
    (tmp_path / "proj" / ".keel" / "state.db").write_text("not a database")
    result = run_keel("init", "proj", cwd=tmp_path)
    assert result.returncode == 6
    assert "state.db cannot be used" in _error_line(result) and "delete it" in _error_line(result)
    assert sorted(p.name for p in (tmp_path / "proj").iterdir()) == [".keel"]
    (tmp_path / "proj" / ".keel" / "state.db").unlink()
    assert run_keel("init", "proj", cwd=tmp_path).returncode == 0
