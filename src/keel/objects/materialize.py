"""Putting objects back into the workspace: reflink, hardlink or copy.

- ``reflink``: a copy-on-write clone (btrfs, XFS, APFS…): instant, and editing the file never
  touches the object.
- ``hardlink``: the workspace file *is* the read-only object: instant and no extra space, but
  a program that opens the file for writing in place would change the object (Keel's
  `verify` catches that; root ignores read-only permissions).
- ``copy``: always safe; costs a copy.

``auto`` (the default) uses reflink where the filesystem supports it and copy elsewhere.
Support is probed once per filesystem and remembered in the stat cache database.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from keel.core.errors import ConfigError
from keel.objects.object_store import ObjectStore, _kernel_copy, _unlink_quietly
from keel.objects.stat_cache import StatCache

METHODS = ("auto", "reflink", "hardlink", "copy")
_FICLONE = 0x40049409


def _reflink(source: Path, dest: Path) -> None:
    with open(source, "rb") as src, open(dest, "wb") as dst:
        fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())


def _probe(store: ObjectStore, folder: Path, method: str) -> bool:
    probe_src = store.root / f".probe-{os.getpid()}"
    probe_dst = folder / f".keel-probe-{os.getpid()}"
    try:
        store.root.mkdir(parents=True, exist_ok=True)
        probe_src.write_bytes(b"keel")
        if method == "reflink":
            _reflink(probe_src, probe_dst)
        else:
            os.link(probe_src, probe_dst)
        return True
    except OSError:
        return False
    finally:
        _unlink_quietly(probe_src)
        _unlink_quietly(probe_dst)


def choose_method(configured: str, store: ObjectStore, folder: Path, cache: StatCache) -> str:
    """The method to use for files in ``folder``: the configured one, or for ``auto`` the best
    one the filesystem supports. Raises when a configured method cannot work here."""
    if configured not in METHODS:
        raise ConfigError(f"data_link must be one of {', '.join(METHODS)}, not {configured!r}.")
    if configured == "copy":
        return "copy"
    folder.mkdir(parents=True, exist_ok=True)
    device = os.stat(folder).st_dev
    wanted = ["reflink"] if configured == "auto" else [configured]
    for method in wanted:
        works = cache.link_support(device, method)
        if works is None:
            works = _probe(store, folder, method)
            cache.set_link_support(device, method, works)
        if works:
            return method
        if configured != "auto":
            raise ConfigError(
                f"data_link is {configured}, which this filesystem does not support for {folder}; "
                "use auto or copy."
            )
    return "copy"


def materialize(
    store: ObjectStore, oid: str, dest: Path, method: str, executable: bool = False, fresh: bool = False
) -> None:
    """Make ``dest`` hold object ``oid``. An existing ``dest`` is replaced atomically; with
    ``fresh`` (the caller knows ``dest`` does not exist) the file is created in place,
    saving a rename per file."""
    source = store.path(oid)
    mode = 0o755 if executable else 0o644
    if fresh:
        try:
            if method == "hardlink":
                os.link(source, dest)
            elif method == "reflink":
                _reflink(source, dest)
                os.chmod(dest, mode)
            else:
                _copy_new(source, dest, mode)
            return
        except FileNotFoundError:
            if not source.is_file():
                raise store._missing(oid) from None
            raise
        except FileExistsError:
            pass  # appeared meanwhile: replace it below
        except OSError as exc:
            if method != "reflink" or exc.errno not in (
                errno.EOPNOTSUPP,
                errno.EXDEV,
                errno.EINVAL,
                errno.ENOTTY,
            ):
                raise
            _unlink_quietly(dest)
            _copy_new(source, dest, mode)
            return
    if not source.is_file():
        raise store._missing(oid)
    tmp = dest.parent / f".keel-tmp-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        if method == "hardlink":
            os.link(source, tmp)
        elif method == "reflink":
            try:
                _reflink(source, tmp)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY):
                    raise
                _kernel_copy(source, tmp)
        else:
            _kernel_copy(source, tmp)
        if method != "hardlink":
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _copy_new(source: Path, dest: Path, mode: int) -> None:
    """Create ``dest`` (which must not exist) with the content of ``source``."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with open(source, "rb") as src:
            size = os.fstat(src.fileno()).st_size
            if size <= (8 << 20):
                data = src.read()
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            else:
                while os.copy_file_range(src.fileno(), fd, 64 << 20):
                    pass
    finally:
        os.close(fd)
