"""Creating files atomically: unnamed files where the system allows, temporary names elsewhere."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.objects import files
from keel.objects.files import publish, write_all


@pytest.fixture(params=["unnamed", "temporary name"])
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A folder to publish into, on each of the two ways of creating files."""
    folder = tmp_path / "objects" / "ab"
    folder.mkdir(parents=True)
    if request.param == "temporary name":
        files._no_unnamed.add(str(folder.parent))  # as on a filesystem that refuses O_TMPFILE
    else:
        probe = files._open_unnamed(str(folder), 0o444)
        if probe is None:
            pytest.skip("this filesystem has no unnamed files (O_TMPFILE)")
        os.close(probe)
    yield folder
    files._no_unnamed.discard(str(folder.parent))


def test_publish_creates_the_whole_file_and_leaves_nothing_else(folder: Path) -> None:
    target = folder / "object"
    publish(str(target), lambda fd: write_all(fd, b"x" * 100_000), 0o444)
    assert target.read_bytes() == b"x" * 100_000
    assert not target.stat().st_mode & stat.S_IWUSR
    assert os.listdir(folder) == ["object"]


def test_publish_never_replaces_an_existing_file(folder: Path) -> None:
    target = folder / "object"
    target.write_bytes(b"first")
    inode = target.stat().st_ino
    publish(str(target), lambda fd: write_all(fd, b"second"), 0o444)
    assert (target.read_bytes(), target.stat().st_ino) == (b"first", inode)
    assert os.listdir(folder) == ["object"]


def test_a_failed_write_leaves_nothing_behind(folder: Path) -> None:
    def fail(fd: int) -> None:
        write_all(fd, b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        publish(str(folder / "object"), fail, 0o444)
    assert os.listdir(folder) == []


def test_a_system_that_cannot_name_unnamed_files_gets_temporary_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "objects" / "ab"
    folder.mkdir(parents=True)
    monkeypatch.setattr(files, "_name", lambda fd, target: False)  # as without /proc
    monkeypatch.setattr(files, "_no_unnamed", set())
    publish(str(folder / "object"), lambda fd: write_all(fd, b"content"), 0o444)
    assert (folder / "object").read_bytes() == b"content"
    assert os.listdir(folder) == ["object"]
    assert str(folder.parent) in files._no_unnamed  # not tried again there


def test_a_store_that_cannot_name_unnamed_files_stops_trying_for_every_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keel.objects.object_store import ObjectStore

    named: list[str] = []

    def cannot(fd: int, target: str) -> bool:
        named.append(target)
        return False

    monkeypatch.setattr(files, "_name", cannot)  # as without /proc
    monkeypatch.setattr(files, "_no_unnamed", set())
    store = ObjectStore(tmp_path / "objects")
    oids = [store.put_bytes(f"object {i}".encode()) for i in range(40)]
    assert len({oid[:2] for oid in oids}) > 1
    assert len(named) == 1  # the first object only: the store's folder is remembered
    assert files._no_unnamed == {str(tmp_path / "objects")}
    for oid in oids:
        assert not [n for n in os.listdir(store.path(oid).parent) if n.startswith(".tmp-")]
        assert store.read_bytes(oid).startswith(b"object ")


def test_copies_without_copy_file_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "copy_file_range", raising=False)  # as on macOS
    source = tmp_path / "big.bin"
    payload = os.urandom((8 << 20) + 5)
    source.write_bytes(payload)
    files.copy_to_new(source, tmp_path / "copy.bin", 0o644)
    assert (tmp_path / "copy.bin").read_bytes() == payload


def test_a_failed_copy_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        files.copy_to_new(tmp_path / "missing.bin", tmp_path / "copy.bin", 0o644)
    assert not (tmp_path / "copy.bin").exists()
