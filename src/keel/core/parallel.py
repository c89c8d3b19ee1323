"""Running two halves of a job at once: the caller's thread takes one, a new thread the other.

For work that waits on the kernel (creating files in different folders), where two writers
proceed in parallel. Unlike a thread pool, both halves always run on their own thread, even
when one half would finish before the other is handed out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def thread_safe(callback: Callable[[T], None]) -> Callable[[T], None]:
    """``callback`` (a progress bar's advance, say) callable from both halves at once."""
    lock = threading.Lock()

    def locked(value: T) -> None:
        with lock:
            callback(value)

    return locked


def in_two_threads(work: Callable[[T, threading.Event], R], first: T, second: T) -> tuple[R, R]:
    """``(work(first, stop), work(second, stop))``, the second on a new thread. ``stop`` is set
    as soon as either half raises (or the caller is interrupted): ``work`` checks it between
    items and returns early, so the other half does not go on for nothing. The exception is
    raised here (the first half's, when both fail) once both halves have ended."""
    stop = threading.Event()
    results: list[R] = []
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            results.append(work(second, stop))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            stop.set()
            errors.append(exc)

    thread = threading.Thread(target=run_second, name="keel-second-half", daemon=True)
    thread.start()
    try:
        result = work(first, stop)
    except BaseException:
        stop.set()
        raise
    finally:
        thread.join()
    if errors:
        raise errors[0]
    return result, results[0]
