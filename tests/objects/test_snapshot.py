"""Scanning folders: the quick walk agrees with the full scan."""

from __future__ import annotations

import os
from pathlib import Path

from keel.objects.snapshot import fingerprint, quick_scan, scan, top_files


def _tree(root: Path) -> None:
    # Names that sort differently per folder and as whole paths ("a-c" < "a/b" < "a0").
    for rel in ("a/b", "a-c", "a0", "a/b2/deep.txt", "z", "A", "é.txt", "sub dir/x y"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    (root / "empty").mkdir()


def test_the_quick_walk_agrees_with_the_scan(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _tree(data)
    quick = quick_scan(data)
    assert quick is not None
    assert quick.fingerprint == fingerprint(scan(data))
    # Each subfolder's fingerprint is the one a scan of that subfolder alone gives.
    assert quick.groups["a"] == fingerprint(scan(data / "a"))
    assert quick.groups["sub dir"] == fingerprint(scan(data / "sub dir"))
    assert [f.rel for f in top_files(data)] == ["A", "a-c", "a0", "z", "é.txt"]
    os.utime(data / "a" / "b2" / "deep.txt", ns=(1, 1))
    changed = quick_scan(data)
    assert changed is not None and changed.fingerprint != quick.fingerprint
    assert changed.groups["a"] != quick.groups["a"] and changed.groups[""] == quick.groups[""]
    assert changed.fingerprint == fingerprint(scan(data))


def test_files_links_and_missing_paths_are_left_to_the_scan(tmp_path: Path) -> None:
    _tree(tmp_path / "data")
    assert quick_scan(tmp_path / "data" / "z") is None  # a file
    (tmp_path / "data" / "link").symlink_to(tmp_path / "data" / "z")
    assert quick_scan(tmp_path / "data") is None
    assert quick_scan(tmp_path / "missing") is None
    (tmp_path / "data" / "link").unlink()
    assert quick_scan(tmp_path / "data") is not None
    (tmp_path / "data" / "a" / "odd\nname").write_text("x")  # scan refuses it, with a message
    assert quick_scan(tmp_path / "data") is None
