"""Queue order and the cap on raised priorities."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.merging.engine.ordering import check_priority_change, queue_order
from merge_assist.merging.engine.state import QueuedMergeRequest
from tests.merging.engine.factories import NOW


def queued(iid: int, priority: int = 0, minutes: int = 0) -> QueuedMergeRequest:
    at = NOW + timedelta(minutes=minutes)
    return QueuedMergeRequest(
        iid=iid, priority=priority, recognised_at=at, head_sha="a", author_sha="a"
    )


def test_priority_first_then_time_recognised() -> None:
    mrs = [queued(1, 0, 0), queued(2, 2, 5), queued(3, 0, -1), queued(4, 2, 1)]
    assert [mr.iid for mr in queue_order(mrs)] == [4, 2, 3, 1]


@given(st.lists(st.tuples(st.integers(-2, 3), st.integers(0, 50)), max_size=20))
def test_order_is_sorted_and_complete(entries: list[tuple[int, int]]) -> None:
    mrs = [queued(i, p, m) for i, (p, m) in enumerate(entries)]
    ordered = queue_order(mrs)
    assert sorted(mr.iid for mr in ordered) == list(range(len(entries)))
    keys = [(-mr.priority, mr.recognised_at) for mr in ordered]
    assert keys == sorted(keys)


def test_at_most_batch_size_mrs_carry_a_raised_priority() -> None:
    priorities = {1: 5, 2: 1, 3: 0, 4: 0}
    assert check_priority_change(priorities, 3, 2, batch_size=3).allowed
    refused = check_priority_change(priorities, 3, 2, batch_size=2)
    assert not refused.allowed
    assert "at most 2" in refused.reason
    assert check_priority_change(priorities, 1, 9, batch_size=2).allowed  # already raised
    assert check_priority_change(priorities, 3, 0, batch_size=1).allowed  # lowering is free
    assert not check_priority_change(priorities, 99, 1, batch_size=5).allowed
