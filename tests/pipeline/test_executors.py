"""The executor contract, run against every executor: local, and Dask (a LocalCluster of
two worker processes, a folder remote, and PostgreSQL as the shared metadata store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.core.workspace import load_workspace
from keel.pipeline.executor_factory import make_executor
from keel.pipeline.executors import Executor, StageJob
from tests.conftest import run_keel
from tests.pipeline.conftest import make_pipeline_project


@pytest.fixture(params=["local", "dask-local"])
def executor_setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Executor, Path]]:
    project = make_pipeline_project(tmp_path / "proj")
    assert run_keel("remote", "add", "origin", str(tmp_path / "remote"), cwd=project).returncode == 0
    workspace = load_workspace(project, env={})
    executor = make_executor(str(request.param), workspace)
    try:
        yield executor, project
    finally:
        executor.close()


def _job(tmp_path: Path, cmd: str, outs: tuple[str, ...] = ()) -> StageJob:
    return StageJob(
        "contract", cmd, "", {"PATH": "/usr/bin:/bin", "KEEL_CONTRACT": "yes"}, (), outs, tmp_path / "logs"
    )


def test_a_command_runs_and_its_output_comes_back(
    executor_setup: tuple[Executor, Path], tmp_path: Path
) -> None:
    executor, project = executor_setup
    outcome = executor.run(
        _job(tmp_path, 'mkdir -p out && echo "$KEEL_CONTRACT" > out/result.txt && echo hi', ("out",))
    )
    assert outcome.ok and outcome.returncode == 0
    assert outcome.stdout.read_text() == "hi\n"
    if executor.ships_inputs:
        version = outcome.outputs["out"]
        assert version.kind == "dir" and version.files == 1
    else:
        assert (project / "out" / "result.txt").read_text() == "yes\n"


def test_a_failing_command_reports_its_exit_code_and_stderr(
    executor_setup: tuple[Executor, Path], tmp_path: Path
) -> None:
    executor, _ = executor_setup
    outcome = executor.run(_job(tmp_path, "echo broken >&2; exit 4"))
    assert not outcome.ok and outcome.returncode == 4
    assert outcome.stderr_tail() == "broken"
    assert outcome.outputs == {}


@pytest.mark.slow
def test_the_pipeline_on_a_dask_cluster_with_postgresql(tmp_path: Path, pg_url: str) -> None:
    from tests.pipeline.conftest import STAGES

    where = "  where:\n    cmd: pwd > reports/where.txt\n    deps: [reports/metrics.json]\n    outs: [reports/where.txt]\n"
    # a stage's own env reaches the worker; what the command stores (an artifact) reaches the remote
    where += (
        "  greet:\n    cmd: python -c \"import os, keel; keel.log_text(os.environ['GREETING'], 'greeting.txt'); "
        "open('reports/greet.txt', 'w').write(os.environ['GREETING'])\"\n"
        "    deps: [reports/metrics.json]\n    outs: [reports/greet.txt]\n    env: {GREETING: hello from the stage}\n"
    )
    project = make_pipeline_project(tmp_path / "proj", STAGES + where)
    env = {"KEEL_DB_URL": pg_url}
    assert run_keel("remote", "add", "origin", str(tmp_path / "remote"), cwd=project).returncode == 0
    result = run_keel("run", "--executor", "dask-local", "--json", cwd=project, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {s["name"]: s["state"] for s in report["stages"]} == {
        "prepare": "ran",
        "train": "ran",
        "evaluate": "ran",
        "where": "ran",
        "greet": "ran",
    }
    assert (project / "reports" / "greet.txt").read_text() == "hello from the stage"
    assert "keel-dask-stage-" in (project / "reports" / "where.txt").read_text()  # it ran on a worker
    # Outputs made on the workers are back in the project.
    assert json.loads((project / "reports" / "metrics.json").read_text()) == {"score": 1.0, "rows": 3}
    stage_runs = json.loads(
        run_keel(
            "runs",
            "list",
            "--filter",
            f"attributes.parent_id = '{report['run_id']}'",
            "--json",
            cwd=project,
            env=env,
        ).stdout
    )
    train = next(r for r in stage_runs if r["name"] == "train")
    assert train["metrics"] == {"rows_seen": 3.0}  # logged from the worker into PostgreSQL
    greet = next(r for r in stage_runs if r["name"] == "greet")
    shown = json.loads(run_keel("runs", "show", greet["id"], "--json", cwd=project, env=env).stdout)
    artifact = next(a for a in shown["artifacts"] if a["name"] == "greeting.txt")
    assert any(
        artifact["oid"][2:] in p.name for p in (tmp_path / "remote").rglob("*")
    )  # pushed by the worker
    again = run_keel("run", "--executor", "dask-local", "--json", cwd=project, env=env, timeout=300)
    assert {s["state"] for s in json.loads(again.stdout)["stages"]} == {"unchanged"}


def test_plain_commands_run_without_a_shell_and_the_rest_through_it(tmp_path: Path) -> None:
    from keel.pipeline.executors import direct_argv, run_command

    env = {"PATH": "/usr/bin:/bin"}
    script = tmp_path / "run.sh"
    script.write_text('#!/bin/sh\necho from-script "$@"\n')
    script.chmod(0o755)
    assert direct_argv("ls -l --color=never data/x.csv", env, tmp_path) == [
        "/usr/bin/ls",
        "-l",
        "--color=never",
        "data/x.csv",
    ]
    assert direct_argv("./run.sh a", env, tmp_path) == ["./run.sh", "a"]
    for shell_only in (
        "echo $HOME",  # a variable
        "ls > out.txt",  # a redirection
        "ls | wc -l",  # a pipe
        "cd data",  # a builtin
        "FOO=1 ls",  # an assignment
        "ls *.csv",  # a glob
        "ls 'a b'",  # quoting
        "no-such-program-here --x",  # not on PATH: the shell reports it
        "",
    ):
        assert direct_argv(shell_only, env, tmp_path) is None, shell_only
    # Both ways give the same output and exit code.
    direct = run_command("./run.sh a b", tmp_path, env, tmp_path / "one")
    shelled = run_command("./run.sh a b > shelled.txt; exit 3", tmp_path, env, tmp_path / "two")
    assert direct.returncode == 0 and direct.stdout.read_text() == "from-script a b\n"
    assert shelled.returncode == 3 and (tmp_path / "shelled.txt").read_text() == "from-script a b\n"
    missing = run_command("no-such-program-here", tmp_path, env, tmp_path / "three")
    assert missing.returncode == 127 and "not found" in missing.stderr.read_text()
    bare = tmp_path / "bare.sh"  # executable, but without a #! line: the shell runs it
    bare.write_text("echo from-bare > bare.txt\n")
    bare.chmod(0o755)
    assert direct_argv("./bare.sh", env, tmp_path) == ["./bare.sh"]
    assert run_command("./bare.sh", tmp_path, env, tmp_path / "four").returncode == 0
    assert (tmp_path / "bare.txt").read_text() == "from-bare\n"
