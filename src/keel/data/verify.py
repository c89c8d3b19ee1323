"""``keel data verify``: rehash objects and report corrupt or missing ones by id and path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from keel.core.errors import IntegrityError
from keel.data.context import DataContext
from keel.data.references import References
from keel.data.status import selected
from keel.objects.remote import Remote
from keel.objects.snapshot import Progress


@dataclass
class VerifyReport:
    checked: int = 0
    corrupt: list[dict[str, str]] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)
    where: str = "local"

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "checked": self.checked,
            "ok": self.ok,
            "corrupt": self.corrupt,
            "missing": self.missing,
        }


def _wanted(ctx: DataContext) -> References:
    refs = References()
    for tracked in selected(ctx, None):
        refs.add_version(ctx, tracked)
    return refs


def verify_local(ctx: DataContext, progress: Progress | None = None) -> VerifyReport:
    refs = _wanted(ctx)
    report = VerifyReport()
    for oid in sorted(refs.unlisted):
        report.missing.append({"oid": oid, "path": refs.objects.get(oid, "?")})
    for oid in sorted(refs.corrupt):
        report.corrupt.append({"oid": oid, "path": refs.objects.get(oid, "?") + "/"})

    def check(item: tuple[str, str]) -> tuple[str, str, str | None]:
        oid, path = item
        if not ctx.store.exists(oid):
            return oid, path, "missing"
        try:
            ctx.store.verify(oid)
        except IntegrityError:
            return oid, path, "corrupt"
        return oid, path, None

    items = [(oid, path) for oid, path in refs.objects.items() if oid not in refs.unlisted | refs.corrupt]
    with ThreadPoolExecutor(max_workers=ctx.jobs) as pool:
        for oid, path, problem in pool.map(check, items, chunksize=32):
            report.checked += 1
            if progress:
                progress(1)
            if problem == "missing":
                report.missing.append({"oid": oid, "path": path})
            elif problem == "corrupt":
                report.corrupt.append({"oid": oid, "path": path})
    report.missing.sort(key=lambda r: r["path"])
    report.corrupt.sort(key=lambda r: r["path"])
    return report


def verify_remote(ctx: DataContext, remote: Remote) -> VerifyReport:
    """Does the remote hold every object the tracked versions need?"""
    refs = _wanted(ctx)
    on_remote = remote.list_oids()
    report = VerifyReport(where=remote.name)
    for oid, path in sorted(refs.objects.items(), key=lambda item: item[1]):
        report.checked += 1
        if oid not in on_remote:
            report.missing.append({"oid": oid, "path": path})
    return report
