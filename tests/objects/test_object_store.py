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


def test_objects_written_into_a_new_shard_keep_the_first_copy(tmp_path: Path) -> None:
    # A shard this store made holds only what was written since: new objects go there
    # without a look first, and naming refuses a second copy of one.
    store = ObjectStore(tmp_path / "objects")
    sources = [tmp_path / "a.bin", tmp_path / "b.bin"]
    for source in sources:
        source.write_bytes(b"same bytes")
    oid, _ = store.put_file(sources[0])
    inode = store.path(oid).stat().st_ino
    assert store.put_file(sources[1])[0] == oid
    assert store.path(oid).stat().st_ino == inode
    assert [p.name for p in store.path(oid).parent.iterdir()] == [oid[2:]]
    # Another store on the same folder did not make the shard: it looks first.
    other = ObjectStore(tmp_path / "objects")
    assert other.put_file(sources[1])[0] == oid
    assert store.path(oid).stat().st_ino == inode and store.read_bytes(oid) == b"same bytes"


def test_a_forked_child_stores_objects_after_closing_what_it_inherited(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    store.put_bytes(b"parent")  # the parent has opened what naming unnamed files needs
    pid = os.fork()
    if pid == 0:  # the child: close every inherited descriptor, then store
        code = 1
        try:
            os.closerange(3, 65536)
            child = ObjectStore(tmp_path / "objects")
            code = 0 if child.read_bytes(child.put_bytes(b"child")) == b"child" else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.read_bytes(blake3(b"child").hexdigest()) == b"child"
