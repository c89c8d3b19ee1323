"""The ``keel`` console script.

The everyday invocations that must answer fastest — ``keel run``, ``keel data status``,
``keel data checkout`` and ``keel push``, bare or with ``--json`` — are run here without
loading click (about 30 ms, a third of a ``keel run`` with nothing to do): they call the same
code the click commands call, with the commands' defaults. Everything else, ``--help``
included, goes through the click group in :mod:`keel.cli.main`. ``KEEL_CLI_FULL=1`` sends
every invocation through click.

Every error a user can cause ends as one line on stderr (JSON with ``--json``) and the exit
code of its :class:`~keel.core.errors.KeelError` class — never a traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from typing import Any


def _run(args: list[str]) -> None:
    from keel.cli.pipeline_run import run_command

    run_command(as_json="--json" in args)


def _data_status(args: list[str]) -> None:
    from keel.cli.data_status import status_command

    status_command(as_json="--json" in args)


def _data_checkout(args: list[str]) -> None:
    from keel.cli.data_sync import checkout_command

    checkout_command(as_json="--json" in args)


def _push(args: list[str]) -> None:
    from keel.cli.data_sync import push_command

    push_command(as_json="--json" in args)


#: Exact argument lists answered without click.
FAST: dict[tuple[str, ...], Callable[[list[str]], None]] = {
    ("run",): _run,
    ("run", "--json"): _run,
    ("data", "status"): _data_status,
    ("data", "status", "--json"): _data_status,
    ("data", "checkout"): _data_checkout,
    ("data", "checkout", "--json"): _data_checkout,
    ("push",): _push,
    ("push", "--json"): _push,
}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``keel`` console script (``argv``: for tests, which run it in
    their own process)."""
    if argv is None:
        # Most commands live for moments, and their imports make tens of thousands of objects
        # that are not garbage: a young-generation collection every 700 of them cost `keel
        # run` ~3 ms. Long-running ones (`keel serve`) just collect less often, in larger steps.
        gc.set_threshold(50_000, *gc.get_threshold()[1:])
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        fast = None if _full_cli() else FAST.get(tuple(args))
        if fast is not None:
            guarded(lambda: fast(args), args)
            return
        from keel.cli.main import main as full

        full(args)
    finally:
        if argv is None:
            # The process ends here: spare the interpreter's last garbage collection over
            # every object the command made (about 15 ms of a `keel run`). Exit handlers
            # still run, and objects are still freed as their last reference goes.
            gc.freeze()


def _full_cli() -> bool:
    """``KEEL_CLI_FULL`` is true (a value that is neither true nor false is reported by the
    settings, on the fast path as on the other)."""
    from keel.core.settings import TRUE_WORDS

    return os.environ.get("KEEL_CLI_FULL", "").strip().lower() in TRUE_WORDS


def guarded(body: Callable[[], None], args: list[str]) -> None:
    """Run ``body``, turning every failure into one line and an exit code."""
    from keel.core.errors import KeelError

    try:
        body()
    except KeelError as exc:
        fail(exc.message, exc.exit_code, args, exc.to_dict())
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        # Output piped into `head` and the like: quietly stop writing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:
        if os.environ.get("KEEL_DEBUG"):
            raise
        fail(
            f"internal error: {type(exc).__name__}: {exc} "
            "(this is a bug in Keel; rerun with KEEL_DEBUG=1 for the traceback and report it)",
            1,
            args,
            {"error": {"code": "internal_error", "message": str(exc), "details": {}}},
        )


def fail(message: str, code: int, args: list[str], error: dict[str, Any] | None = None) -> None:
    """Print the error (as JSON when the command was asked for JSON) and exit with ``code``."""
    from keel.cli.render import echo

    if "--json" in args and error is not None:
        import json

        echo(json.dumps(error), err=True)
    else:
        echo(f"error: {message}", err=True)
    sys.exit(code)
