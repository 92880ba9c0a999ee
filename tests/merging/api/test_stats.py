"""The pure parts of the queue statistics."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.merging.api.stats import (
    failures_by_reason,
    merged_per_hour,
    percentile,
    reason_of,
    time_to_merge,
)

T = datetime(2026, 1, 1, tzinfo=UTC)
values = st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1, max_size=50)


def test_percentile_on_known_values() -> None:
    assert percentile([10.0], 0.95) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert percentile([0.0, 100.0], 0.95) == 95.0
    assert percentile([float(v) for v in range(1, 21)], 0.95) == 19.05


@given(values, st.floats(min_value=0, max_value=1))
def test_percentile_lies_between_the_extremes(data: list[float], fraction: float) -> None:
    ordered = sorted(data)
    assert ordered[0] - 1e-6 <= percentile(ordered, fraction) <= ordered[-1] + 1e-6


@given(values)
def test_the_median_is_the_textbook_median(data: list[float]) -> None:
    ordered = sorted(data)
    assert abs(percentile(ordered, 0.5) - statistics.median(ordered)) < 1e-6


def test_time_to_merge_skips_unrecognised_and_clamps_clock_skew() -> None:
    found = time_to_merge([(None, T), (T + timedelta(seconds=5), T), (T, T + timedelta(seconds=9))])
    assert (found.count, found.median_seconds, found.p95_seconds) == (2, 4.5, 8.55)


def test_hours_are_zero_filled_utc_hours() -> None:
    counts = merged_per_hour([T + timedelta(minutes=59), T + timedelta(hours=2, minutes=1)], T, 3)
    assert [(c.hour, c.merged) for c in counts] == [
        (T, 1),
        (T + timedelta(hours=1), 0),
        (T + timedelta(hours=2), 1),
    ]


def test_reasons() -> None:
    assert reason_of({"reason": " conflict ", "cause": "x"}) == "conflict"
    assert reason_of({"cause": "pipeline_failed"}) == "pipeline_failed"
    assert reason_of({"reasons": "a; b"}) == "a; b"
    assert reason_of({"reason": 3}) == "unknown"
    assert reason_of({"reason": "y" * 500}) == "y" * 200
    counted = failures_by_reason([{"cause": "b"}, {"cause": "a"}, {"cause": "b"}, {}])
    assert [(c.reason, c.count) for c in counted] == [("b", 2), ("a", 1), ("unknown", 1)]
