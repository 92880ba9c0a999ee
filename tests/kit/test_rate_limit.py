"""Failures per key in a sliding window (issue 13, item 8: token guessers get 429)."""

from __future__ import annotations

from merge_assist.kit.rate_limit import FailureWindow


def test_a_key_is_refused_after_its_failures_until_the_oldest_leaves_the_window() -> None:
    window = FailureWindow(3, 60)
    for moment in (0.0, 10.0, 20.0):
        assert window.retry_after("a", now=moment) is None
        window.record("a", now=moment)
    assert window.retry_after("a", now=30.0) == 30  # the first failure leaves at 60
    assert window.retry_after("b", now=30.0) is None  # other keys are not affected
    assert window.retry_after("a", now=60.0) is None
    window.record("a", now=61.0)
    assert window.retry_after("a", now=61.0) == 9  # 10, 20 and 61 are in the window


def test_the_number_of_keys_is_bounded() -> None:
    window = FailureWindow(1, 60, max_keys=100)
    for number in range(1000):
        window.record(f"10.0.{number // 256}.{number % 256}", now=1.0)
    assert len(window._failures) == 100
    assert window.retry_after("10.0.3.231", now=2.0) == 59  # the newest are kept
