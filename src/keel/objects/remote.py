"""Remotes: object stores elsewhere — a folder, or anything fsspec reaches (S3, GCS, Azure…).

A remote holds objects in the same layout as the local store (``<base>/ab/cdef…``) and never
holds a partial object: a folder remote writes a temporary file and renames it into place
(temporary names start with ``.`` and are never listed as objects); object stores (S3 and
the like) only make an upload visible once it is complete.

Errors from the remote's client are translated here into one-line Keel errors naming the
remote and what to check (reachability, credentials, the bucket).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from keel.core.errors import InvalidInput, KeelError, NotFound, RemoteUnavailable
from keel.core.hashing import is_oid
from keel.objects.files import SMALL, copy_into, publish, read_upto, unlink_quietly

_ATOMIC_PUT = {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"}


class Remote(Protocol):
    name: str
    url: str

    def list_oids(self) -> set[str]: ...

    def list_times(self) -> dict[str, float | None]: ...

    def upload(self, oid: str, local: str | Path, size: int | None = None) -> None: ...

    def download(self, oid: str, dest: Path) -> None: ...

    def delete(self, oid: str) -> None: ...

    def stale_temporaries(self) -> list[str]: ...


def _try_link(source: str | Path, target: str | Path) -> bool:
    """Hard-link ``source`` at ``target`` (an existing ``target`` counts as done)."""
    try:
        os.link(source, target)
    except FileExistsError:
        return True
    except OSError:
        return False  # another filesystem, or no hard links: copy instead
    return True


def _split(oid: str) -> tuple[str, str]:
    return oid[:2], oid[2:]


class FolderRemote:
    """A remote in a local (or mounted) folder.

    With ``link`` (the remote option ``link: true``), objects move between it and a store
    on the same filesystem as hard links: creating files is what moving many small objects
    costs (~30 µs to link one on ext4 here, ~260 µs to write one). The price: the remote
    and the store share each object's bytes, so a copy damaged in one place is damaged in
    both — the remote is then no backup. Off by default.
    """

    def __init__(self, name: str, url: str, base: Path, link: bool = False) -> None:
        self.name, self.url, self.base = name, url, base
        self.link = link
        self._shards: set[str] = set()  # shard folders known to exist

    def _path(self, oid: str) -> Path:
        shard, rest = _split(oid)
        return self.base / shard / rest

    def _ensure_base(self) -> None:
        if self._shards:
            return
        if not self.base.exists():
            parent = self.base.parent
            if not parent.exists():
                raise RemoteUnavailable(
                    f"Remote {self.name} ({self.url}): {parent} does not exist; create it or fix the URL "
                    f"(keel remote add {self.name} URL)."
                )
            self.base.mkdir(exist_ok=True)

    def list_oids(self) -> set[str]:
        if not self.base.exists():
            return set()
        found: set[str] = set()
        for shard in os.listdir(self.base):
            if len(shard) != 2:
                continue
            try:
                names = os.listdir(self.base / shard)
            except NotADirectoryError:
                continue
            found.update(shard + n for n in names if len(n) == 62 and not n.startswith("."))
        return found

    def list_times(self) -> dict[str, float | None]:
        """Object ids with their modification time (seconds since the epoch)."""
        times: dict[str, float | None] = {}
        for oid in self.list_oids():
            try:
                times[oid] = os.stat(self._path(oid)).st_mtime
            except FileNotFoundError:
                continue
        return times

    def upload(self, oid: str, local: str | Path, size: int | None = None) -> None:
        self._ensure_base()
        shard, rest = _split(oid)
        folder = f"{self.base}{os.sep}{shard}"
        if shard not in self._shards:
            os.makedirs(folder, exist_ok=True)
            self._shards.add(shard)
        target = f"{folder}{os.sep}{rest}"
        if self.link and _try_link(local, target):
            return
        publish(target, lambda fd: copy_into(local, fd, size), 0o444, folder)

    def read_small(self, oid: str) -> bytes | None:
        """The bytes of object ``oid`` if it is small (up to 8 MiB) and this remote copies
        (not links); None otherwise (then :meth:`download` it)."""
        if self.link:
            return None
        try:
            fd = os.open(self._path(oid), os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound(f"Object {oid[:12]}… is not on remote {self.name} ({self.url}).") from None
        try:
            size = os.fstat(fd).st_size
            return read_upto(fd, size, size) if size <= SMALL else None
        finally:
            os.close(fd)

    def download(self, oid: str, dest: Path) -> None:
        source = self._path(oid)
        if self.link and _try_link(source, dest):
            return
        try:
            shutil.copyfile(source, dest)
        except FileNotFoundError:
            raise NotFound(f"Object {oid[:12]}… is not on remote {self.name} ({self.url}).") from None

    def delete(self, oid: str) -> None:
        unlink_quietly(self._path(oid))

    def stale_temporaries(self) -> list[str]:
        if not self.base.exists():
            return []
        found = []
        for shard in os.listdir(self.base):
            folder = self.base / shard
            if folder.is_dir():
                found += [str(folder / n) for n in os.listdir(folder) if n.startswith(".tmp-")]
        return found


class FsspecRemote:
    """A remote reached through fsspec (``s3://bucket/prefix`` and any other fsspec URL)."""

    def __init__(self, name: str, url: str, options: Mapping[str, Any]) -> None:
        import fsspec

        self.name, self.url = name, url
        protocol, _, rest = url.partition("://")
        self.protocol = protocol
        self.base = rest.rstrip("/")
        try:
            with self._errors():
                self.fs = fsspec.filesystem(protocol, **dict(options))
        except (ImportError, ValueError) as exc:
            hint = " (pip install 'keel[s3]')" if protocol in ("s3", "s3a") else ""
            raise InvalidInput(f"Remote {name}: cannot use {protocol}:// URLs here{hint}: {exc}.") from None

    def _key(self, oid: str) -> str:
        shard, rest = _split(oid)
        return f"{self.base}/{shard}/{rest}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except KeelError:
            raise
        except FileNotFoundError as exc:
            if _no_bucket(exc):
                raise self._no_bucket_error() from None
            raise  # a missing object: the caller decides what that means
        except PermissionError as exc:
            raise RemoteUnavailable(
                f"Remote {self.name} ({self.url}) refused access: {_first_line(exc)}; check the credentials "
                "(for S3: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and the bucket's permissions."
            ) from None
        except (OSError, ConnectionError, TimeoutError) as exc:
            raise RemoteUnavailable(
                f"Remote {self.name} ({self.url}) is unreachable: {_first_line(exc)}; check the URL, "
                "the network and the endpoint."
            ) from None
        except Exception as exc:  # noqa: BLE001 - client libraries raise their own types
            text = _first_line(exc)
            lowered = text.lower()
            if any(
                w in lowered
                for w in (
                    "credential",
                    "accessdenied",
                    "access denied",
                    "signature",
                    "invalidaccesskey",
                    "forbidden",
                )
            ):
                raise RemoteUnavailable(
                    f"Remote {self.name} ({self.url}) refused the credentials: {text}; check "
                    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)."
                ) from None
            if _no_bucket(exc):
                raise self._no_bucket_error() from None
            raise RemoteUnavailable(f"Remote {self.name} ({self.url}) failed: {text}.") from None

    def _no_bucket_error(self) -> RemoteUnavailable:
        return RemoteUnavailable(
            f"Remote {self.name} ({self.url}): the bucket does not exist; create it or fix the URL."
        )

    def list_oids(self) -> set[str]:
        return set(self.list_times())

    def list_times(self) -> dict[str, float | None]:
        with self._errors():
            try:
                listing = self.fs.find(self.base, detail=True)
            except FileNotFoundError:
                return {}
        found: dict[str, float | None] = {}
        for path, info in listing.items():
            parts = str(path).rstrip("/").rsplit("/", 2)
            if len(parts) == 3 and len(parts[1]) == 2 and not parts[2].startswith("."):
                oid = parts[1] + parts[2]
                if is_oid(oid):
                    found[oid] = _modified(info)
        return found

    def upload(self, oid: str, local: str | Path, size: int | None = None) -> None:
        key = self._key(oid)
        with self._errors():
            if self.protocol in _ATOMIC_PUT:
                self.fs.put_file(str(local), key)
                return
            tmp = f"{self.base}/{oid[:2]}/.tmp-{os.getpid()}-{os.urandom(4).hex()}"
            self.fs.put_file(str(local), tmp)
            self.fs.mv(tmp, key)

    def download(self, oid: str, dest: Path) -> None:
        try:
            with self._errors():
                self.fs.get_file(self._key(oid), str(dest))
        except FileNotFoundError:
            raise NotFound(f"Object {oid[:12]}… is not on remote {self.name} ({self.url}).") from None

    def delete(self, oid: str) -> None:
        with self._errors():
            try:
                self.fs.rm_file(self._key(oid))
            except FileNotFoundError:
                pass

    def stale_temporaries(self) -> list[str]:
        return []


def _modified(info: Mapping[str, Any]) -> float | None:
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def open_remote(
    name: str,
    url: str,
    options: Mapping[str, Any] | None = None,
    root: Path | None = None,
    link: bool = False,
) -> Remote:
    """The remote at ``url``: ``file://`` URLs and plain paths are folders (relative paths
    are relative to the project root; ``link`` lets them share objects by hard link),
    anything else goes through fsspec."""
    if url.startswith("file://"):
        return FolderRemote(name, url, Path(url[len("file://") :]), link)
    if "://" not in url:
        path = Path(url).expanduser()
        if not path.is_absolute() and root is not None:
            path = root / path
        return FolderRemote(name, url, path, link)
    return FsspecRemote(name, url, options or {})


def _no_bucket(exc: BaseException) -> bool:
    """Whether a client's error says the bucket itself is missing (s3fs raises it as a
    FileNotFoundError, botocore as NoSuchBucket)."""
    text = _first_line(exc).lower()
    return "nosuchbucket" in text or ("bucket" in text and "does not exist" in text)
