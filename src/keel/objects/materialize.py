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
from keel.objects.files import copy_to_new, kernel_copy, unlink_quietly
from keel.objects.object_store import ObjectStore
from keel.objects.stat_cache import StatCache

METHODS = ("auto", "reflink", "hardlink", "copy")
_FICLONE = 0x40049409


def _reflink(source: str | Path, dest: str | Path) -> None:
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
        unlink_quietly(probe_src)
        unlink_quietly(probe_dst)


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
    store: ObjectStore,
    oid: str,
    dest: str | Path,
    method: str,
    executable: bool = False,
    fresh: bool = False,
    size: int | None = None,
) -> os.stat_result:
    """Make ``dest`` hold object ``oid``; return the stat of the file written. An existing
    ``dest`` is replaced atomically; with ``fresh`` (the caller knows ``dest`` does not
    exist) the file is created in place, saving a rename per file. ``size`` is the object's
    size when the caller knows it (from its tree), saving a system call."""
    source = store.location(oid)
    mode = 0o755 if executable else 0o644
    if fresh:
        try:
            if method == "hardlink":
                os.link(source, dest)
                return os.stat(dest)
            if method == "reflink":
                _reflink(source, dest)
                os.chmod(dest, mode)
                return os.stat(dest)
            return copy_to_new(source, dest, mode, size)
        except FileNotFoundError:
            if not os.path.isfile(source):
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
            unlink_quietly(Path(dest))
            return copy_to_new(source, dest, mode, size)
    if not os.path.isfile(source):
        raise store._missing(oid)
    tmp = Path(os.path.dirname(dest) or ".") / f".keel-tmp-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        if method == "hardlink":
            os.link(source, tmp)
        elif method == "reflink":
            try:
                _reflink(source, tmp)
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY):
                    raise
                kernel_copy(source, tmp)
        else:
            kernel_copy(source, tmp)
        if method != "hardlink":
            os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        unlink_quietly(tmp)
        raise
    return os.stat(dest)
