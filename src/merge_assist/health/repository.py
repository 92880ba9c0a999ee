"""Queries of the health status over the merge queue's tables (read only)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.merging.persistence.models import MergeRequestRecord, QueueLogEntry

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


async def last_errors(
    session: AsyncSession, limit: int, project_ids: Collection[int] | None = None
) -> Sequence[QueueLogEntry]:
    """The newest queue log lines of level ``error`` (of ``project_ids`` only, if given: lines
    of no project are then left out)."""
    query = select(QueueLogEntry).where(QueueLogEntry.level == "error")
    if project_ids is not None:
        query = query.where(QueueLogEntry.project_id.in_(list(project_ids)))
    rows = await session.scalars(query.order_by(QueueLogEntry.id.desc()).limit(limit))
    return rows.all()


async def queued_since_before(
    session: AsyncSession, cutoff: datetime, limit: int = 200
) -> Sequence[MergeRequestRecord]:
    """MRs still in a queue that were recognised before ``cutoff`` (the longest waiting first)."""
    rows = await session.scalars(
        select(MergeRequestRecord)
        .where(
            MergeRequestRecord.queue_state.in_(QUEUED_STATES),
            MergeRequestRecord.recognised_at < cutoff,
        )
        .order_by(MergeRequestRecord.recognised_at)
        .limit(limit)
    )
    return rows.all()
