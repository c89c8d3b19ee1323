"""Two halves of a job on two threads."""

from __future__ import annotations

import threading
import time

import pytest

from keel.core.parallel import in_two_threads, thread_safe


def test_each_half_runs_on_its_own_thread() -> None:
    def work(items: list[int], stop: threading.Event) -> tuple[str, int]:
        return threading.current_thread().name, sum(items)

    (name_a, a), (name_b, b) = in_two_threads(work, [1, 2], [3, 4])
    assert (a, b) == (3, 7)
    assert name_a == threading.current_thread().name != name_b


@pytest.mark.parametrize("failing", ["first", "second"])
def test_a_failing_half_stops_the_other_and_is_raised(failing: str) -> None:
    done: dict[str, int] = {}

    def work(half: str, stop: threading.Event) -> int:
        count = 0
        for _ in range(1000):  # 10 s unless stopped
            if stop.is_set():
                break
            if half == failing and count == 3:
                raise ValueError(f"{half} half failed")
            time.sleep(0.01)
            count += 1
        done[half] = count
        return count

    started = time.monotonic()
    with pytest.raises(ValueError, match=f"{failing} half failed"):
        in_two_threads(work, "first", "second")
    assert time.monotonic() - started < 5
    other = "second" if failing == "first" else "first"
    assert done[other] < 100  # stopped soon after the failure, not at its end


def test_a_thread_safe_callback_adds_up_across_both_halves() -> None:
    counted: list[int] = []
    report = thread_safe(counted.append)

    def work(items: range, stop: threading.Event) -> int:
        for _ in items:
            report(1)
        return len(items)

    assert in_two_threads(work, range(5000), range(3000)) == (5000, 3000)
    assert len(counted) == 8000
