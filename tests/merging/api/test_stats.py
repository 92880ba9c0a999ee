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
    assert [(c.reason, c.count) for c in counted] == [("Other", 4)]
    assert [(m.message, m.count) for m in counted[0].messages] == [
        ("b", 2),
        ("a", 1),
        ("unknown", 1),
    ]


def test_failures_are_grouped_by_kind_with_the_raw_messages() -> None:
    entries = [
        {"reasons": "- pipeline #10 failed for 0b5c1cf3"},
        {"reasons": "- pipeline #12 failed for 9a8b7c6d", "cause": "not_ready"},
        {"cause": "rebase_failed", "reasons": "- rebasing onto `main` failed with conflicts"},
        {"cause": "batch_conflict"},
        {"cause": "batch_failed", "reasons": "- the batch pipeline failed because of it"},
        {"reasons": "- it needs 2 more approvals\n- blocking discussions are not resolved"},
        {"reasons": "- the merge request is marked as draft"},
        {"reasons": "- a reviewer requested changes"},
        {"reasons": "- pipeline #3 is running; timed out after 3600 s"},
        {"reasons": "- `a.nc` is checked out in the vault by @grace"},
        {"cause": "pipeline_failed"},
    ]
    counted = {c.kind: c for c in failures_by_reason(entries)}
    assert {kind: c.count for kind, c in counted.items()} == {
        "pipeline_failed": 3,
        "conflict": 2,
        "culprit": 1,
        "approvals": 2,
        "discussions": 1,
        "draft": 1,
        "timeout": 1,
        "other": 1,
    }
    assert next(iter(counted)) == "pipeline_failed"  # the most frequent first
    failed = counted["pipeline_failed"]
    assert failed.reason == "Pipeline failed"
    assert [m.message for m in failed.messages] == [
        "pipeline #10 failed for 0b5c1cf3",
        "pipeline #12 failed for 9a8b7c6d",
        "pipeline_failed",
    ]
    assert counted["culprit"].reason == "Batch or train culprit"
    assert counted["other"].messages[0].message.startswith("`a.nc` is checked out")


def test_at_most_ten_messages_per_kind() -> None:
    entries = [{"reasons": f"- pipeline #{n} failed for abc"} for n in range(30)]
    (failed,) = failures_by_reason(entries)
    assert failed.count == 30
    assert len(failed.messages) == 10
