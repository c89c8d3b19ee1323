"""Several processes opening a new SQLite database at once all get it (in WAL mode)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

OPEN_AND_WRITE = """
import sys, time
from pathlib import Path
from keel.objects.stat_cache import StatCache
start = float(sys.argv[2])
while time.time() < start:
    pass
cache = StatCache(Path(sys.argv[1]))
cache.save([(f"p{i}", (i, i, i), "oid") for i in range(50)])
print(cache.path_state("nothing"))
"""


@pytest.mark.parametrize("round_", range(4))
def test_concurrent_first_opens_of_the_state_db(tmp_path: Path, round_: int) -> None:
    db = tmp_path / "state.db"
    start = time.time() + 0.4  # every process past its imports, then all at once
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_WRITE, str(db), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("KEEL_")},
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=60), p.communicate()) for p in procs]
    assert all(code == 0 for code, _ in results), results
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT count(*) FROM stat_cache").fetchone()[0] == 50
