"""`keel ci init`: the generated CI steps run for real, pass on a good project, fail on bad data."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import run_keel


def _ci(project: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "PYTHON": sys.executable}
    env.pop("KEEL_RUN_ID", None)
    return subprocess.run(
        ["bash", "ci/keel-ci.sh"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_generated_ci_steps_run_locally_and_fail_on_a_failing_check(
    project: Path, iris: Any, tmp_path: Path
) -> None:
    X, y = iris
    (project / "data").mkdir(exist_ok=True)
    X.assign(species=y).to_csv(project / "data" / "iris.csv", index=False)
    assert run_keel("data", "add", "data/iris.csv", cwd=project).returncode == 0
    assert run_keel("remote", "add", "store", str(tmp_path / "remote"), cwd=project).returncode == 0
    assert run_keel("push", cwd=project).returncode == 0
    assert run_keel("check", "infer", "data/iris.csv", cwd=project).returncode == 0
    (project / "summarize.py").write_text(
        "import pandas as pd\npd.read_csv('data/iris.csv').describe().to_csv('summary.csv')\n"
    )
    (project / "keel.yaml").write_text(
        (project / "keel.yaml").read_text()
        + textwrap.dedent(
            """
            stages:
              summarize:
                cmd: python summarize.py
                deps: [data/iris.csv, summarize.py]
                outs: [summary.csv]
            """
        )
    )
    (project / "tests").mkdir(exist_ok=True)
    (project / "tests" / "test_smoke.py").write_text("def test_smoke():\n    assert 1 + 1 == 2\n")

    made = run_keel("ci", "init", "--github", cwd=project)
    assert made.returncode == 0, made.stderr
    assert "Wrote ci/keel-ci.sh" in made.stdout and "Wrote .github/workflows/keel.yml" in made.stdout
    workflow = yaml.safe_load((project / ".github" / "workflows" / "keel.yml").read_text())
    steps = workflow["jobs"]["keel"]["steps"]
    assert any(s.get("run") == "bash ci/keel-ci.sh" for s in steps)
    assert any("junit" in str(s.get("uses", "")) for s in steps)
    again = run_keel("ci", "init", cwd=project)
    assert again.returncode == 4 and "--force" in again.stderr

    (project / "data" / "iris.csv").unlink()  # CI starts without the data: keel pull brings it
    passed = _ci(project)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    for step in ("--- tests", "--- data", "--- pipeline", "--- checks", "--- all green"):
        assert step in passed.stdout
    assert (project / "data" / "iris.csv").is_file() and (project / "summary.csv").is_file()
    assert 'failures="0"' in (project / "reports" / "tests.xml").read_text()
    assert 'failures="0"' in (project / "reports" / "checks.xml").read_text()

    schema = project / "checks" / "iris.schema.yaml"
    schema.write_text(schema.read_text().replace("rows: {min: 75, max: 300}", "rows: {min: 1000, max: 2000}"))
    failed = _ci(project)
    assert failed.returncode == 1 and "--- all green" not in failed.stdout
    assert 'failures="1"' in (project / "reports" / "checks.xml").read_text()
