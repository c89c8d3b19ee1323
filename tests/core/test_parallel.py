"""Two halves of a job on two threads."""

from __future__ import annotations

import threading

import pytest

from keel.core.parallel import in_two_threads


def test_each_half_runs_on_its_own_thread() -> None:
    def work(items: list[int]) -> tuple[str, int]:
        return threading.current_thread().name, sum(items)

    (name_a, a), (name_b, b) = in_two_threads(work, [1, 2], [3, 4])
    assert (a, b) == (3, 7)
    assert name_a == threading.current_thread().name != name_b


@pytest.mark.parametrize("failing", ["first", "second"])
def test_a_failing_half_is_raised_after_both_ended(failing: str) -> None:
    ended: list[str] = []

    def work(half: str) -> str:
        try:
            if half == failing:
                raise ValueError(f"{half} half failed")
            return half
        finally:
            ended.append(half)

    with pytest.raises(ValueError, match=f"{failing} half failed"):
        in_two_threads(work, "first", "second")
    assert sorted(ended) == ["first", "second"]
