"""Keel's one exception hierarchy.

Every error a user can see is a :class:`KeelError`. Each class carries the exit code the
CLI returns, the HTTP status a server answers with, and a stable machine-readable ``code``
for the JSON error envelope ``{"error": {"code", "message", "details"}}``::

    KeelError                      exit 1   HTTP 500
    ├── InvalidInput               exit 2   HTTP 400   bad argument, key, value, filter
    │   └── ConfigError            exit 2   HTTP 400   keel.yaml / KEEL_* setting is wrong
    │       └── MissingDependency  exit 2   HTTP 400   a flavor's library is not installed
    ├── NotFound                   exit 3   HTTP 404   unknown run, experiment, object…
    │   └── CommandNotFound        exit 127 HTTP 404   `keel track -- CMD` with no such CMD
    ├── Conflict                   exit 4   HTTP 409   immutable value re-logged, finished run…
    ├── IntegrityError             exit 5   HTTP 500   corrupt object, failed write
    │   └── FileChanged            exit 5   HTTP 500   a file changed while Keel read it
    └── StoreUnavailable           exit 6   HTTP 503   database unreachable, bad password
        ├── SchemaTooNew           exit 7   HTTP 503   store written by a newer Keel
        └── RemoteUnavailable      exit 6   HTTP 503   remote unreachable, credentials refused

Messages say what happened and how to fix it, in one line. Third-party exceptions are
translated at the seam (``raise InvalidInput(...) from exc``) so no traceback reaches a user.
"""

from __future__ import annotations

from typing import Any


class KeelError(Exception):
    """Base class of every error Keel reports to a user."""

    code = "keel_error"
    exit_code = 1
    http_status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON error envelope body shared by the CLI's ``--json`` mode and HTTP APIs."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(KeelError):
    """An argument, key, value or expression the user gave is not acceptable."""

    code = "invalid_input"
    exit_code = 2
    http_status = 400


class ConfigError(InvalidInput):
    """A setting in ``keel.yaml`` or a ``KEEL_*`` environment variable is wrong."""

    code = "config_error"


class NotFound(KeelError):
    """Something named by the user does not exist."""

    code = "not_found"
    exit_code = 3
    http_status = 404


class Conflict(KeelError):
    """The request contradicts recorded state (an immutable value, a finished run…)."""

    code = "conflict"
    exit_code = 4
    http_status = 409


class IntegrityError(KeelError):
    """Stored data is corrupt, or a write could not be completed."""

    code = "integrity_error"
    exit_code = 5
    http_status = 500


class StoreUnavailable(KeelError):
    """The metadata store cannot be reached or opened."""

    code = "store_unavailable"
    exit_code = 6
    http_status = 503


class SchemaTooNew(StoreUnavailable):
    """The metadata store was created by a newer version of Keel."""

    code = "schema_too_new"
    exit_code = 7


class CommandNotFound(NotFound):
    """The command to track does not exist (exit code 127, as in a shell)."""

    code = "command_not_found"
    exit_code = 127


class FileChanged(IntegrityError):
    """A file changed while Keel was reading it."""

    code = "file_changed"


class RemoteUnavailable(StoreUnavailable):
    """A remote cannot be reached, or refuses the credentials."""

    code = "remote_unavailable"


class MissingDependency(ConfigError):
    """A feature needs a Python package that is not installed (the message names it)."""

    code = "missing_dependency"
