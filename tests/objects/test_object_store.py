from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from blake3 import blake3

from keel.core.errors import IntegrityError, InvalidInput, NotFound
from keel.objects.files import copy_to_new
from keel.objects.object_store import ObjectStore


def test_put_bytes_is_content_addressed_sharded_and_read_only(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    oid = store.put_bytes(b"hello")
    assert oid == blake3(b"hello").hexdigest()
    path = store.path(oid)
    assert path == tmp_path / "objects" / oid[:2] / oid[2:]
    assert path.read_bytes() == b"hello"
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert store.put_bytes(b"hello") == oid
    assert [p.name for p in path.parent.iterdir()] == [oid[2:]]  # no temp files left


def test_put_file_streams_and_keeps_existing(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    source = tmp_path / "data.bin"
    payload = os.urandom(3 << 20)
    source.write_bytes(payload)
    oid, size = store.put_file(source)
    assert (oid, size) == (blake3(payload).hexdigest(), len(payload))
    inode = store.path(oid).stat().st_ino
    assert store.put_file(source)[0] == oid
    assert store.path(oid).stat().st_ino == inode  # never rewritten
    assert store.read_bytes(oid) == payload


def test_corruption_and_missing_objects_are_named(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    oid = store.put_bytes(b"precious")
    path = store.path(oid)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(IntegrityError, match=oid[:12]):
        store.read_bytes(oid)
    with pytest.raises(IntegrityError, match="corrupt"):
        store.verify(oid)
    with pytest.raises(NotFound, match="not in"):
        store.read_bytes("0" * 64)
    with pytest.raises(InvalidInput, match="not an object id"):
        store.path("../../etc/passwd")


def test_copy_to_writes_a_verified_writable_copy(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    oid = store.put_bytes(b"abc")
    dest = store.copy_to(oid, tmp_path / "out" / "x.txt")
    assert dest.read_bytes() == b"abc"
    dest.write_bytes(b"changed")  # the copy is the user's, the object stays intact
    store.verify(oid)


def test_put_file_errors(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    with pytest.raises(NotFound):
        store.put_file(tmp_path / "missing")
    with pytest.raises(InvalidInput, match="not a regular file"):
        store.put_file(tmp_path)


@pytest.mark.parametrize("count", [3, 600])  # stat per id, and listing shard folders
def test_missing_names_the_ids_the_store_lacks_in_order(tmp_path: Path, count: int) -> None:
    store = ObjectStore(tmp_path / "objects")
    present = [store.put_bytes(f"object {i}".encode()) for i in range(count)]
    absent = [blake3(f"absent {i}".encode()).hexdigest() for i in range(count)]
    mixed = [oid for pair in zip(absent, present, strict=True) for oid in pair]
    assert store.missing(mixed + absent[:1]) == absent  # in order, each once
    assert store.missing(present) == []
    (store.path(present[0]).parent / (".tmp-" + absent[0][2:])).write_bytes(b"partial")
    assert absent[0] in store.missing(absent)  # a temporary file is not the object
    with pytest.raises(InvalidInput, match="not an object id"):
        store.missing(["../../etc/passwd"] * count)
    assert ObjectStore(tmp_path / "empty").missing(present[:2]) == present[:2]


def test_copy_to_new_creates_only_new_files(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    payload = os.urandom(70_000)
    source.write_bytes(payload)
    st = copy_to_new(source, str(tmp_path / "copy.bin"), 0o444)
    copied = tmp_path / "copy.bin"
    assert copied.read_bytes() == payload
    assert (st.st_size, st.st_ino) == (len(payload), copied.stat().st_ino)
    assert not copied.stat().st_mode & stat.S_IWUSR
    with pytest.raises(FileExistsError):
        copy_to_new(source, copied, 0o644)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # the kernel-copy path
    copy_to_new(big, tmp_path / "big-copy.bin", 0o644, size=9 << 20)
    assert (tmp_path / "big-copy.bin").read_bytes() == big.read_bytes()


def test_missing_in_a_store_much_larger_than_the_ids_asked_about(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    present = [store.put_bytes(f"object {i}".encode()) for i in range(600)]
    absent = [blake3(f"absent {i}".encode()).hexdigest() for i in range(600)]
    first_shard = store.path(absent[0]).parent
    first_shard.mkdir(parents=True, exist_ok=True)
    for i in range(200):  # the first shard listed is crowded: the rest are checked by stat
        (first_shard / f"{i:062x}").write_bytes(b"")
    assert store.missing(absent + present) == absent
