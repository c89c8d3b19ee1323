"""`import keel` and `keel --help` stay light: heavy modules load only when used.
(Times are measured by benchmarks/, never asserted here.)"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "pandas", "numpy", "sklearn", "rich", "psycopg", "yaml", "click")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_import_keel_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import keel")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_keel_help_loads_only_click() -> None:
    code = "import sys\nsys.argv = ['keel', '--help']\nfrom keel.cli.main import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
    loaded = _loaded_after(code)
    heavy = {m.split(".")[0] for m in loaded} & set(HEAVY)
    assert heavy == {"click"}, heavy


def test_public_api_resolves() -> None:
    import keel

    for name in keel.__all__:
        assert getattr(keel, name) is not None
