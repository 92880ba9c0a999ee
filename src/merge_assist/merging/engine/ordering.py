"""Queue order and the cap on raised priorities (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from merge_assist.merging.engine.state import QueuedMergeRequest
from merge_assist.merging.engine.values import Frozen

DEFAULT_PRIORITY = 0


def queue_order(mrs: Iterable[QueuedMergeRequest]) -> list[QueuedMergeRequest]:
    """Priority descending, then recognised earliest first (iid breaks exact ties)."""
    return sorted(mrs, key=lambda mr: (-mr.priority, mr.recognised_at, mr.iid))


class PriorityCheck(Frozen):
    """Whether a priority change may be made, and if not, why."""

    allowed: bool
    reason: str = ""


def check_priority_change(
    priorities: Mapping[int, int], iid: int, new_priority: int, batch_size: int
) -> PriorityCheck:
    """At most ``batch_size`` MRs of a queue may carry a raised priority at once.

    ``priorities`` maps every queued MR to its current priority.
    """
    if iid not in priorities:
        return PriorityCheck(allowed=False, reason=f"!{iid} is not in this merge queue")
    if new_priority <= DEFAULT_PRIORITY:
        return PriorityCheck(allowed=True)
    raised = sum(
        1 for other, priority in priorities.items() if other != iid and priority > DEFAULT_PRIORITY
    )
    if raised + 1 > batch_size:
        return PriorityCheck(
            allowed=False,
            reason=(
                f"{raised} merge requests already carry a raised priority; at most "
                f"{batch_size} may at once (the batch size)"
            ),
        )
    return PriorityCheck(allowed=True)
