"""Creating files safely and with few system calls: what the store, remotes and checkout share.

:func:`publish` creates a file atomically under its final name, never replacing one that
exists: a reader never sees a partial file, and the first writer of a name wins. Where the
system allows (Linux, most local filesystems) the content is written to an unnamed file
(``O_TMPFILE``) that is then given its name (``linkat``, through :func:`os.link`): one
directory change instead of a temporary name plus a rename, and nothing left behind by a
crash. Elsewhere it is written under a temporary name (starting with ``.tmp-``) and moved
into place with a no-replace rename (``renameat2``; ``link`` + ``unlink`` where that is
missing).

Loops over many small files call these with string paths: building a
:class:`~pathlib.Path` costs more than the system call it is for.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.core.errors import FileChanged

#: Files up to this size are copied with one read and one write.
SMALL = 8 << 20
_COPY_CHUNK = 64 << 20
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1

_libc_functions: dict[str, Any] = {}
#: Folders (by their parent) whose filesystem refused unnamed files: not tried again.
_no_unnamed: set[str] = set()


def _libc(name: str) -> Any:
    """A libc function by name (None where it does not exist), loaded once."""
    if name not in _libc_functions:
        try:
            import ctypes

            _libc_functions[name] = getattr(ctypes.CDLL(None, use_errno=True), name, None)
        except (OSError, AttributeError):
            _libc_functions[name] = None
    return _libc_functions[name]


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def publish(target: str, content: bytes | Callable[[int], None], mode: int = 0o444, folder: str = "") -> None:
    """Create ``target`` with ``content`` (bytes, or what ``content(fd)`` writes), atomically
    and without replacing an existing ``target`` (then the new bytes are dropped: the first
    writer wins). If writing raises, nothing is left behind. The folder of ``target`` (which
    a caller that knows it passes as ``folder``) must exist."""
    folder = (folder.rstrip(os.sep) or os.sep) if folder else (os.path.dirname(target) or ".")
    fd = _open_unnamed(folder, mode)
    if fd is not None:
        try:
            _write(fd, content)
            named = _name(fd, target)
        finally:
            os.close(fd)
        if named:
            return
        _no_unnamed.add(os.path.dirname(folder))  # cannot be named here: temporary names instead
    tmp = f"{folder}{os.sep}.tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            _write(fd, content)
        finally:
            os.close(fd)
        commit(tmp, target)
    except BaseException:
        unlink_quietly(tmp)
        raise


def _write(fd: int, content: bytes | Callable[[int], None]) -> None:
    if isinstance(content, bytes):
        write_all(fd, content)
    else:
        content(fd)


#: Whether this system has unnamed files (``O_TMPFILE``) and can name them (``linkat``).
_UNNAMED = hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd
_O_UNNAMED = getattr(os, "O_TMPFILE", 0) | os.O_WRONLY


def _open_unnamed(folder: str, mode: int) -> int | None:
    """An unnamed file in ``folder`` open for writing, or None where that is impossible."""
    if not _UNNAMED or (_no_unnamed and os.path.dirname(folder) in _no_unnamed) or _root_fd() is None:
        return None
    try:
        return os.open(folder, _O_UNNAMED, mode)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
        _no_unnamed.add(os.path.dirname(folder))  # this filesystem or kernel cannot: temporary names instead
        return None


#: Why naming an unnamed file can fail where a temporary name would work: no /proc (a
#: sandbox), linkat refused (seccomp), a filesystem with unnamed files but no hard links.
_CANNOT_NAME = (errno.ENOENT, errno.EPERM, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


def _name(fd: int, target: str) -> bool:
    """Give the unnamed file ``fd`` the name ``target``, unless ``target`` exists (the first
    writer of it won). False when this system cannot name unnamed files here."""
    # linkat(AT_FDCWD, "/proc/self/fd/N", root, target, AT_SYMLINK_FOLLOW): os.link passes
    # AT_SYMLINK_FOLLOW only with a folder descriptor, which an absolute target ignores.
    try:
        # Joined, not normalized: the kernel resolves ".." after symlinks, as a relative name would.
        absolute = target if target.startswith(os.sep) else os.path.join(os.getcwd(), target)
        os.link(f"/proc/self/fd/{fd}", absolute, dst_dir_fd=_root_fd())
    except FileExistsError:
        return True
    except OSError as exc:
        code = exc.errno
        if code == errno.ENOENT and os.path.isdir(os.path.dirname(target) or "."):
            return False  # the target's folder is there: /proc is not
        if code in _CANNOT_NAME and code != errno.ENOENT:
            return False
        raise OSError(code, exc.strerror, target) from None  # the name, not /proc/self/fd/N
    return True


_root: list[int | None] = []  # [a descriptor of "/"] once opened


def _root_fd() -> int | None:
    """A descriptor of ``/`` (opened once), or None where it cannot be opened. It only makes
    :func:`os.link` pass ``AT_SYMLINK_FOLLOW``: the kernel ignores it for an absolute target,
    so a forked child that closed it still names files."""
    if not _root:
        try:
            _root.append(os.open("/", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)))
        except OSError:
            _root.append(None)
    return _root[0]


def commit(tmp: str | Path, target: str | Path, mode: int | None = None) -> None:
    """Move the complete file ``tmp`` to ``target`` unless ``target`` exists; ``tmp`` is gone
    afterwards. With ``mode``, ``tmp`` is first given it (objects are made read-only)."""
    if mode is not None:
        os.chmod(tmp, mode)
    if _rename_noreplace(tmp, target):
        return
    try:
        os.link(tmp, target)  # refuses to replace: the first writer of a name wins
    except FileExistsError:
        pass
    except OSError:
        # Filesystems without hard links: rename is still atomic; identical bytes anyway.
        if not os.path.exists(target):
            os.replace(tmp, target)
            return
    unlink_quietly(tmp)


def _rename_noreplace(source: str | Path, target: str | Path) -> bool:
    """Atomically move ``source`` to ``target`` unless ``target`` exists (then drop ``source``).
    False when the system cannot do it (the caller falls back to link + unlink)."""
    renameat2 = _libc("renameat2")
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(source), _AT_FDCWD, os.fsencode(target), _RENAME_NOREPLACE) == 0:
        return True
    if _errno() == errno.EEXIST:
        unlink_quietly(source)
        return True
    return False


def unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)  # all of it, nearly always
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


def copy_into(source: str | Path, fd: int, size: int | None = None) -> None:
    """Append the content of the file ``source`` (``size`` bytes, when the caller knows) to
    ``fd``: one read and one write for a small file, the kernel's copy for a large one."""
    src = os.open(source, os.O_RDONLY)
    try:
        if size is None:
            size = os.fstat(src).st_size
        if size > SMALL:
            copy_fds(src, fd)
            return
        # One byte more than expected, so a longer file shows; but a read that returns
        # exactly the expected size ends it (a second read would only say "end of file").
        write_all(fd, read_upto(src, size + 1, size))
    finally:
        os.close(src)


def copy_to_new(source: str | Path, dest: str | Path, mode: int, size: int | None = None) -> os.stat_result:
    """Create ``dest``, which must not exist, with ``mode`` and the content of ``source``;
    return the stat of ``dest``. If copying fails, ``dest`` is removed again."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        copy_into(source, fd, size)
        return os.fstat(fd)
    except BaseException:
        unlink_quietly(dest)
        raise
    finally:
        os.close(fd)


def read_upto(fd: int, limit: int, expected: int = -1) -> bytes:
    """Up to ``limit`` bytes from ``fd``: usually one read, more where reads come back short
    (FUSE, network filesystems), until ``expected`` bytes (when given) have come."""
    data = os.read(fd, limit)
    while 0 < len(data) < limit and len(data) != expected and (more := os.read(fd, limit - len(data))):
        data += more
    return data


def copy_fds(src: int, dst: int) -> None:
    """Copy from ``src``'s position to its end with copy_file_range (no trip through user
    space), falling back to reads and writes where the kernel or system cannot."""
    source_start = os.lseek(src, 0, os.SEEK_CUR)
    start = os.lseek(dst, 0, os.SEEK_CUR)
    if hasattr(os, "copy_file_range"):  # Linux
        try:
            while os.copy_file_range(src, dst, _COPY_CHUNK):
                pass
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
        os.lseek(src, source_start, os.SEEK_SET)
        os.lseek(dst, start, os.SEEK_SET)
        os.ftruncate(dst, start)
    while chunk := os.read(src, 1 << 20):
        write_all(dst, chunk)


def kernel_copy(source: str | Path, dest: str | Path) -> None:
    """Copy the file ``source`` to ``dest`` (created or truncated)."""
    with open(source, "rb") as src, open(dest, "wb") as dst:
        copy_fds(src.fileno(), dst.fileno())


def check_unchanged(source: str | Path, before: os.stat_result, after: os.stat_result | None = None) -> None:
    """Raise :class:`FileChanged` unless ``source`` (now, or as ``after`` says) has the
    size, modification time and inode it had ``before``."""
    after = after or os.stat(source)
    if (after.st_size, after.st_mtime_ns, after.st_ino) != (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    ):
        raise _changed(source)


def _changed(source: str | Path) -> FileChanged:
    return FileChanged(
        f"{source} changed while Keel was reading it; run the command again once it is written."
    )


def read_unchanged(source: str | Path, before: os.stat_result) -> bytes:
    """The bytes of the small file ``source``, refusing a file that is not as ``before``
    says once read (the stat of the open file: no second path lookup)."""
    fd = os.open(source, os.O_RDONLY)
    try:
        # One byte more than expected: a file that grew or shrank since ``before`` has
        # another size now, which the stat of the open file shows.
        data = read_upto(fd, before.st_size + 1, before.st_size)
        check_unchanged(source, before, os.fstat(fd))
        if len(data) != before.st_size:
            raise _changed(source)
    finally:
        os.close(fd)
    return data
