"""The retry rule and Retry-After parsing (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from merge_assist.gitlab.retry import RetryPolicy, may_retry_ambiguous, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=10**9))
def test_delta_seconds_are_read_as_given(seconds: int) -> None:
    assert parse_retry_after(str(seconds), now=NOW) == seconds


@given(st.integers(min_value=0, max_value=10**7))
def test_http_dates_become_the_wait_until_then(seconds: int) -> None:
    header = format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(header, now=NOW) == seconds


def test_a_date_in_the_past_means_now() -> None:
    header = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(header, now=NOW) == 0


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "nan", "inf", "1e999", "Tue, 99"])
def test_unusable_values_are_ignored(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


@given(st.text(max_size=40))
def test_any_header_text_gives_none_or_a_finite_wait(value: str) -> None:
    result = parse_retry_after(value, now=NOW)
    assert result is None or 0 <= result < float("inf")


@given(
    attempt=st.integers(min_value=0, max_value=60),
    backoff=st.floats(min_value=0.001, max_value=10),
    seed=st.integers(),
)
def test_backoff_is_exponential_with_equal_jitter_and_capped(
    attempt: int, backoff: float, seed: int
) -> None:
    policy = RetryPolicy(backoff=backoff, max_backoff=30.0)
    ceiling = min(30.0, backoff * 2**attempt)
    delay = policy.backoff_delay(attempt, random.Random(seed))
    assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(
    ("method", "retry_safe", "expected"),
    [
        ("GET", False, True),
        ("get", False, True),
        ("DELETE", False, True),
        ("HEAD", False, True),
        ("POST", False, False),
        ("PUT", False, False),
        ("POST", True, True),
        ("PUT", True, True),
    ],
)
def test_ambiguous_failures_are_retried_only_when_harmless(
    method: str, retry_safe: bool, expected: bool
) -> None:
    assert may_retry_ambiguous(method, retry_safe=retry_safe) is expected
