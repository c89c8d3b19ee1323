"""The object store's data-versioning parts: trees, the stat cache, changing files, links."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from keel.core.errors import FileChanged, InvalidInput
from keel.objects.materialize import choose_method, materialize
from keel.objects.object_store import ObjectStore
from keel.objects.snapshot import build_tree, fingerprint, identify, scan
from keel.objects.stat_cache import StatCache
from keel.objects.trees import TreeEntry, Trees, decode_tree, encode_tree
from tests.data.conftest import write_files


def _snapshot(folder: Path, store: ObjectStore, cache: StatCache) -> str:
    found = scan(folder)
    oids = identify(found.files, "data", cache, store, jobs=4)
    return build_tree(found.files, oids, Trees(store))[0]


def test_trees_are_canonical() -> None:
    a = [TreeEntry("b", "file", "1" * 64, 3), TreeEntry("a", "dir", "2" * 64, 10, 4)]
    assert encode_tree(a) == encode_tree(list(reversed(a)))
    assert decode_tree(encode_tree(a)) == sorted(a, key=lambda e: e.name)


def test_one_changed_file_rewrites_only_the_trees_on_its_path(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(
        data, {f"x/y/f{i}.txt": f"{i}" for i in range(5)} | {f"z/g{i}.txt": f"g{i}" for i in range(5)}
    )
    store = ObjectStore(tmp_path / "objects")
    cache = StatCache(tmp_path / "state.db")
    first = _snapshot(data, store, cache)
    before = set(store.iter_oids())
    (data / "x" / "y" / "f0.txt").write_text("changed")
    second = _snapshot(data, store, cache)
    new = set(store.iter_oids()) - before
    trees = Trees(store)
    assert second != first
    # The new file, and the trees of x/y, x and the root: nothing under z.
    assert len(new) == 4
    z_before = next(e for e in Trees(store).get(first) if e.name == "z")
    z_after = next(e for e in trees.get(second) if e.name == "z")
    assert z_before.oid == z_after.oid
    files = dict(trees.walk_files(second))
    assert len(files) == 10 and files["x/y/f0.txt"].size == len("changed")


def test_unchanged_files_are_not_rehashed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, {"a.txt": "hello", "b.txt": "world"})
    cache = StatCache(tmp_path / "state.db")
    found = scan(data)
    first = identify(found.files, "data", cache, None, jobs=2)
    # Change the content but keep inode, size and mtime: only a rehash could notice.
    target = data / "a.txt"
    st = os.stat(target)
    with open(target, "r+b") as fh:
        fh.write(b"HELLO")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = identify(scan(data).files, "data", cache, None, jobs=2)
    assert again == first  # served from the stat cache
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert identify(scan(data).files, "data", cache, None, jobs=2)["a.txt"] != first["a.txt"]


def test_a_file_changing_while_it_is_stored_is_refused(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    source = tmp_path / "growing.bin"
    source.write_bytes(b"x" * 1000)
    stale = os.stat(source)
    with open(source, "ab") as fh:
        fh.write(b"more")  # it changed after Keel looked at it
    with pytest.raises(FileChanged, match="changed while Keel was reading it"):
        store.put_file(source, stale)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # the large-file path: hash, then kernel copy
    stale = os.stat(big)
    os.utime(big, ns=(stale.st_atime_ns, stale.st_mtime_ns + 5))
    with pytest.raises(FileChanged):
        store.put_file(big, stale)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []  # nothing half-written


def test_large_files_are_stored_and_existing_objects_never_rewritten(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "objects")
    big = tmp_path / "big.bin"
    payload = os.urandom(20 << 20)
    big.write_bytes(payload)
    oid, size = store.put_file(big)
    assert size == len(payload)
    store.verify(oid)
    inode = store.path(oid).stat().st_ino
    assert store.put_file(big)[0] == oid
    assert store.path(oid).stat().st_ino == inode


def test_scan_refuses_loops_broken_links_and_odd_names(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_files(data, {"sub/a.txt": "a"})
    os.symlink(data, data / "sub" / "loop")
    with pytest.raises(InvalidInput, match="loop"):
        scan(data)
    os.unlink(data / "sub" / "loop")
    os.symlink(tmp_path / "nowhere", data / "dangling")
    with pytest.raises(InvalidInput, match="broken symbolic link"):
        scan(data)
    os.unlink(data / "dangling")
    outside = tmp_path / "outside.txt"
    outside.write_text("followed")
    os.symlink(outside, data / "link.txt")
    found = scan(data)
    assert [f.rel for f in found.files] == ["link.txt", "sub/a.txt"]


@pytest.mark.parametrize("method", ["copy", "hardlink", "auto"])
def test_materialize(tmp_path: Path, method: str) -> None:
    store = ObjectStore(tmp_path / "objects")
    cache = StatCache(tmp_path / "state.db")
    oid = store.put_bytes(b"content")
    dest_dir = tmp_path / "ws"
    dest_dir.mkdir()
    chosen = choose_method(method, store, dest_dir, cache)
    assert chosen in ("copy", "hardlink", "reflink")
    dest = dest_dir / "file.txt"
    dest.write_text("old")
    materialize(store, oid, dest, chosen, executable=True)
    assert dest.read_bytes() == b"content"
    if chosen == "hardlink":
        assert dest.stat().st_ino == store.path(oid).stat().st_ino
        assert not dest.stat().st_mode & stat.S_IWUSR
    else:
        assert dest.stat().st_mode & stat.S_IXUSR
        dest.write_text("edited")  # a copy is the user's: the object stays intact
        store.verify(oid)
    assert [p.name for p in dest_dir.iterdir()] == ["file.txt"]


def test_checkout_writes_a_folder_status_trusts_and_refuses_a_wrong_sized_object(repo: Path) -> None:
    from keel.core.errors import IntegrityError
    from keel.data.add import add_paths
    from keel.data.checkout import checkout_path
    from keel.data.context import open_data
    from keel.data.lockfile import read_lock
    from keel.data.status import path_status

    write_files(repo / "set", {"a/1.txt": "one", "a/2.txt": "two", "b.txt": "bee"})
    ctx = open_data(repo)
    add_paths(ctx, ["set"], cwd=repo)
    tracked = read_lock(repo).versions()["set"]
    shutil.rmtree(repo / "set")
    (repo / "set" / "b.txt").mkdir(parents=True)  # a folder where the version has a file
    (repo / "set" / "b.txt" / "stray").write_text("x")
    result = checkout_path(ctx, tracked, force=True)
    assert (result.written, (repo / "set" / "b.txt").read_text()) == (3, "bee")
    # The fingerprint recorded from the written files' stats matches a fresh scan: status
    # finds the folder unchanged without hashing anything.
    assert ctx.cache.path_state("set") == (fingerprint(scan(repo / "set")), tracked.oid)
    assert path_status(ctx, tracked).state == "unchanged"

    oid = next(e.oid for rel, e in ctx.trees.walk_files(tracked.oid) if rel == "a/1.txt")
    damaged = ctx.store.path(oid)
    damaged.chmod(0o644)
    damaged.write_text("one, and more")  # not the size the tree records
    (repo / "set" / "a" / "1.txt").unlink()
    with pytest.raises(IntegrityError, match="keel pull --force"):
        checkout_path(ctx, tracked, force=True)


def test_a_status_after_a_change_rereads_only_the_subfolder_that_changed(repo: Path) -> None:
    from keel.data.add import add_paths
    from keel.data.context import open_data
    from keel.data.lockfile import read_lock
    from keel.data.status import path_status

    files: dict[str, str | bytes] = {f"{d}/{i}.txt": f"{d}{i}" for d in ("a", "b", "c") for i in range(3)}
    write_files(repo / "set", {**files, "top.txt": "top", "b.csv": "x"})
    ctx = open_data(repo)
    add_paths(ctx, ["set"], cwd=repo)
    tracked = read_lock(repo).versions()["set"]
    assert path_status(ctx, tracked).state == "unchanged"
    db = ctx.cache._db()
    db.execute("DELETE FROM stat_cache WHERE path LIKE 'set/c/%'")  # c would have to be rehashed

    (repo / "set" / "a" / "1.txt").write_text("changed")
    status = path_status(ctx, tracked)
    assert (status.state, status.modified, status.added, status.deleted) == ("modified", ["a/1.txt"], [], [])
    assert db.execute("SELECT count(*) FROM stat_cache WHERE path LIKE 'set/c/%'").fetchone()[0] == 0

    # Folders that appear, vanish or turn into files; files directly in the folder.
    shutil.rmtree(repo / "set" / "b")
    (repo / "set" / "b").write_text("now a file")
    (repo / "set" / "d" / "new.txt").parent.mkdir()
    (repo / "set" / "d" / "new.txt").write_text("new")
    (repo / "set" / "top.txt").write_text("other")
    (repo / "set" / "b.csv").unlink()
    status = path_status(ctx, tracked)
    assert status.added == ["b", "d/new.txt"]
    assert status.modified == ["a/1.txt", "top.txt"]
    assert status.deleted == ["b.csv", "b/0.txt", "b/1.txt", "b/2.txt"]

    # Back as recorded (new stats, same content): unchanged, and remembered as intact.
    (repo / "set" / "b").unlink()
    (repo / "set" / "d" / "new.txt").unlink()
    (repo / "set" / "d").rmdir()
    write_files(repo / "set", {"a/1.txt": "a1", "top.txt": "top", "b.csv": "x"})
    write_files(repo / "set", {f"b/{i}.txt": f"b{i}" for i in range(3)})
    assert path_status(ctx, tracked).state == "unchanged"
    assert ctx.cache.path_state("set") == (fingerprint(scan(repo / "set")), tracked.oid)
    assert ctx.cache.path_state("set/a") is not None


def test_a_status_with_a_missing_subfolder_listing_says_not_local(repo: Path) -> None:
    from keel.data.add import add_paths
    from keel.data.context import open_data
    from keel.data.lockfile import read_lock
    from keel.data.status import path_status

    write_files(repo / "set", {"a/1.txt": "one", "b/2.txt": "two"})
    ctx = open_data(repo)
    add_paths(ctx, ["set"], cwd=repo)
    tracked = read_lock(repo).versions()["set"]
    sub = next(e.oid for e in ctx.trees.get(tracked.oid) if e.name == "a")
    ctx.store.path(sub).unlink()  # the listing of set/a is gone from the store
    (repo / "set" / "a" / "1.txt").write_text("changed")
    assert path_status(ctx, tracked).state == "not_local"


def test_a_big_checkout_writes_every_file_and_reports_progress(repo: Path) -> None:
    """Every file comes back with its content, the progress (reported every 256 files)
    adds up to the file count, and status trusts what was written."""
    from keel.data import checkout
    from keel.data.add import add_paths
    from keel.data.context import open_data
    from keel.data.lockfile import read_lock
    from keel.data.status import path_status

    files: dict[str, str | bytes] = {f"{d}/{i}.txt": f"{d}-{i}" for d in "abcde" for i in range(130)}
    write_files(repo / "set", {**files, "top.txt": "top"})
    ctx = open_data(repo)
    add_paths(ctx, ["set"], cwd=repo)
    tracked = read_lock(repo).versions()["set"]
    shutil.rmtree(repo / "set")

    counted: list[int] = []
    result = checkout.checkout_path(ctx, tracked, force=False, progress=counted.append)
    assert result.written == 651 and sum(counted) == 651 and counted[:2] == [256, 256]
    assert {str(p.relative_to(repo / "set")): p.read_text() for p in (repo / "set").rglob("*.txt")} == {
        **files,
        "top.txt": "top",
    }
    assert path_status(ctx, tracked).state == "unchanged"
