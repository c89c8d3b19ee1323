"""``keel ci init``: the CI steps of a Keel project, as a script any CI can run.

``ci/keel-ci.sh`` installs the project's requirements, runs its tests (JUnit to
``reports/tests.xml``), pulls tracked data from the default remote when there is one,
reproduces the pipeline with ``keel run`` (whose stage checks gate it) and runs every
check with ``keel check all`` (JUnit to ``reports/checks.xml``). It stops at the first
failing step, so a failing check fails the build. ``--github`` also writes
``.github/workflows/keel.yml``, which runs the script and publishes the JUnit reports.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from keel.core.errors import Conflict

SCRIPT = "ci/keel-ci.sh"
WORKFLOW = ".github/workflows/keel.yml"

_SCRIPT = """\
#!/usr/bin/env bash
# The CI steps of this Keel project, written by `keel ci init`; edit freely.
# Run locally with `bash ci/keel-ci.sh`. KEEL and PYTHON pick the commands to use.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL="${KEEL:-keel}"
PYTHON="${PYTHON:-python3}"
mkdir -p reports

echo "--- install"
if [ -f requirements.txt ]; then "$PYTHON" -m pip install --quiet -r requirements.txt; fi
command -v "$KEEL" >/dev/null || { echo "keel is not installed: list it in requirements.txt" >&2; exit 127; }

echo "--- tests"
if [ -d tests ] && [ -n "$(find tests -name 'test_*.py' -print -quit)" ]; then
    "$PYTHON" -m pytest --junitxml=reports/tests.xml tests
else
    echo "no tests/test_*.py: skipped"
fi

echo "--- data"
if [ "$("$KEEL" remote list --json)" != "[]" ]; then "$KEEL" pull; else echo "no remote: skipped"; fi

echo "--- pipeline"
"$KEEL" run

echo "--- checks"
"$KEEL" check all --junit reports/checks.xml

echo "--- all green"
"""

_WORKFLOW = """\
# Keel CI, written by `keel ci init --github`: tests, data, pipeline and checks on every push.
name: keel
on:
  push:
  pull_request:
jobs:
  keel:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Tests, data, pipeline and checks
        run: bash ci/keel-ci.sh
        env:
          # for an S3 remote: add these as repository secrets
          AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
      - name: Keep the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: keel-reports
          path: reports/
      - name: Publish test and check results
        if: always()
        uses: mikepenz/action-junit-report@v4
        with:
          report_paths: "reports/*.xml"
"""


def init_ci(root: Path, *, github: bool = False, force: bool = False) -> list[Path]:
    """Write the CI files into project ``root``; return them. Existing files need ``force``."""
    files = {root / SCRIPT: _SCRIPT}
    if github:
        files[root / WORKFLOW] = _WORKFLOW
    existing = [p for p in files if p.exists()]
    if existing and not force:
        shown = os.path.relpath(existing[0], root)
        raise Conflict(f"{shown} exists; edit it, or pass --force to replace it.")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.keel-tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    script = root / SCRIPT
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return list(files)
