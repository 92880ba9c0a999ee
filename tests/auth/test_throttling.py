from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.auth.throttling import seconds_until_allowed

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_allowed_below_the_limit() -> None:
    failures = [NOW - timedelta(seconds=s) for s in (1, 2)]
    assert seconds_until_allowed(failures, limit=3, window=WINDOW, now=NOW) is None


def test_blocked_until_the_oldest_counted_failure_leaves_the_window() -> None:
    failures = [NOW - timedelta(seconds=s) for s in (10, 100, 200, 5000)]
    # the newest three count; the oldest of them (200 s ago) leaves after 900 - 200 s
    assert seconds_until_allowed(failures, limit=3, window=WINDOW, now=NOW) == 700


def test_failures_outside_the_window_do_not_count() -> None:
    failures = [NOW - WINDOW - timedelta(seconds=s) for s in (0, 1, 2, 3)]
    assert seconds_until_allowed(failures, limit=3, window=WINDOW, now=NOW) is None


def test_wait_is_at_least_one_second() -> None:
    failures = [NOW - WINDOW + timedelta(milliseconds=1)] * 3
    assert seconds_until_allowed(failures, limit=3, window=WINDOW, now=NOW) == 1


@given(
    ages=st.lists(st.integers(min_value=0, max_value=3000), max_size=30),
    limit=st.integers(min_value=1, max_value=10),
)
def test_blocked_exactly_when_limit_failures_are_in_the_window(ages: list[int], limit: int) -> None:
    failures = [NOW - timedelta(seconds=age) for age in ages]
    wait = seconds_until_allowed(failures, limit=limit, window=WINDOW, now=NOW)
    in_window = [f for f in failures if f > NOW - WINDOW]
    assert (wait is None) == (len(in_window) < limit)
    if wait is not None:
        assert 1 <= wait <= WINDOW.total_seconds()
        later = NOW + timedelta(seconds=wait)
        assert seconds_until_allowed(failures, limit=limit, window=WINDOW, now=later) is None
