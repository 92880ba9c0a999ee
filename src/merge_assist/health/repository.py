"""Queries of the health status over the merge queue's tables (read only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.merging.models import MergeRequestRecord, QueueLogEntry

QUEUED_STATES = ("waiting", "ready", "not_ready", "merging", "in_batch")


async def queue_counts(session: AsyncSession) -> list[tuple[int, str, str, int]]:
    """(project id, target branch, queue state, count) of the MRs still in a queue."""
    rows = await session.execute(
        select(
            MergeRequestRecord.project_id,
            MergeRequestRecord.target_branch,
            MergeRequestRecord.queue_state,
            func.count(),
        )
        .where(MergeRequestRecord.queue_state.in_(QUEUED_STATES))
        .group_by(
            MergeRequestRecord.project_id,
            MergeRequestRecord.target_branch,
            MergeRequestRecord.queue_state,
        )
        .order_by(MergeRequestRecord.project_id, MergeRequestRecord.target_branch)
    )
    return [(int(p), str(b), str(s), int(c)) for p, b, s, c in rows.all()]


async def last_errors(session: AsyncSession, limit: int) -> Sequence[QueueLogEntry]:
    """The newest queue log lines of level ``error``."""
    rows = await session.scalars(
        select(QueueLogEntry)
        .where(QueueLogEntry.level == "error")
        .order_by(QueueLogEntry.id.desc())
        .limit(limit)
    )
    return rows.all()
