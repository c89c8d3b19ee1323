"""`keel run`, `keel data status`, `keel data checkout` and `keel push` (bare or --json)
answer without click, exactly as the click commands do."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import run_keel, run_python
from tests.pipeline.conftest import make_pipeline_project

FULL = {"KEEL_CLI_FULL": "1"}


def _same(args: tuple[str, ...], cwd: Path) -> None:
    fast, full = run_keel(*args, cwd=cwd), run_keel(*args, cwd=cwd, env=FULL)
    assert (fast.returncode, fast.stderr) == (full.returncode, full.stderr), args
    if "--json" in args and fast.stdout.strip():
        assert _no_durations(json.loads(fast.stdout)) == _no_durations(json.loads(full.stdout)), args
    else:
        assert re.sub(r"\d+\.\d+s", "T", fast.stdout) == re.sub(r"\d+\.\d+s", "T", full.stdout), args


def _no_durations(value: object) -> object:
    if isinstance(value, dict):
        return {k: _no_durations(v) for k, v in value.items() if k != "duration"}
    if isinstance(value, list):
        return [_no_durations(v) for v in value]
    return value


def test_the_fast_commands_answer_as_the_click_commands(tmp_path: Path) -> None:
    outside = tmp_path / "nowhere"
    outside.mkdir()
    for args in (("run",), ("run", "--json"), ("data", "status"), ("data", "status", "--json")):
        _same(args, outside)  # no project: the same one-line error and exit code

    project = make_pipeline_project(tmp_path / "proj")
    _same(("data", "status"), project)  # nothing tracked yet
    assert run_keel("run", cwd=project).returncode == 0
    for args in (("run",), ("run", "--json"), ("data", "status"), ("data", "status", "--json")):
        _same(args, project)
    (project / "data" / "processed" / "rows.csv").write_text("changed\n")
    for args in (("data", "status"), ("data", "status", "--json")):
        _same(args, project)  # a changed output
    restored = json.loads(run_keel("run", "--json", cwd=project).stdout)
    assert restored["stages"][0]["state"] == "restored"
    _same(("run", "--json"), project)
    for args in (("data", "checkout"), ("data", "checkout", "--json")):
        _same(args, project)  # the changed output holds content never stored: refused
    (project / "data" / "processed" / "rows.csv").unlink()
    fast = run_keel("data", "checkout", "--json", cwd=project)
    (project / "data" / "processed" / "rows.csv").unlink()
    full = run_keel("data", "checkout", "--json", cwd=project, env=FULL)
    assert fast.returncode == full.returncode == 0 and fast.stdout == full.stdout
    for args in (("push",), ("push", "--json")):
        _same(args, project)  # no remote yet: the same error
    assert run_keel("remote", "add", "shared", str(tmp_path / "remote"), cwd=project).returncode == 0
    fast, full = run_keel("push", "--json", cwd=project), run_keel("push", "--json", cwd=project, env=FULL)
    assert json.loads(fast.stdout)["transferred"] > 0 and json.loads(full.stdout)["transferred"] == 0
    for args in (("push",), ("push", "--json")):
        _same(args, project)  # everything already there
    (project / "keel.yaml").write_text("stages: [\n")
    for args in (("run",), ("run", "--json"), ("data", "status")):
        _same(args, project)  # a broken keel.yaml: the same error


def test_the_fast_commands_do_not_load_click(tmp_path: Path) -> None:
    project = make_pipeline_project(tmp_path / "proj")
    probe = (
        "import sys\nfrom keel.cli.entry import main\n"
        "for args in (['run'], ['data', 'status'], ['data', 'checkout'], ['push']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    result = run_python(probe, cwd=project)
    loaded = {name.split(".")[0] for name in result.stdout.splitlines()[-1].split()}
    assert "click" not in loaded and "rich" not in loaded, result.stdout
    assert run_keel("run", "--help", cwd=project).returncode == 0  # anything else: click


def test_a_bad_cli_full_value_is_a_setting_error(tmp_path: Path) -> None:
    project = make_pipeline_project(tmp_path / "proj")
    for args in (("run",), ("runs", "list")):
        result = run_keel(*args, cwd=project, env={"KEEL_CLI_FULL": "maybe"})
        assert result.returncode == 2, result.stderr
        assert "cli_full" in result.stderr and "true or false" in result.stderr
        assert "Traceback" not in result.stderr
