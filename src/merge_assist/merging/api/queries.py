"""Reads of the merge queue's tables for the API (queries only, no rules).

The runner writes these tables; the API only reads them, except ``merge_requests.priority``
(see ``priority``) and the history and log lines that record a priority change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.merging.persistence.models import (
    BatchOperation,
    EngineStateRow,
    MergeHistoryEntry,
    MergeRequestRecord,
    QueueLogEntry,
)

# Stats are computed in Python over at most this many rows per window, so one request stays
# bounded whatever the traffic (the window then covers the newest rows).
STATS_ROW_CAP = 20_000
HISTORY_PER_MR = 200


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def merge_request_by_id(session: AsyncSession, mr_id: int) -> MergeRequestRecord | None:
    """The MR record with our id ``mr_id``."""
    return await session.get(MergeRequestRecord, mr_id)


async def rows_in_states(
    session: AsyncSession,
    project_id: int,
    states: Collection[str],
    *,
    target_branch: str | None = None,
) -> Sequence[MergeRequestRecord]:
    """Every MR of the project in one of ``states`` (queues are small: no paging)."""
    query = select(MergeRequestRecord).where(
        MergeRequestRecord.project_id == project_id,
        MergeRequestRecord.queue_state.in_(list(states)),
    )
    if target_branch is not None:
        query = query.where(MergeRequestRecord.target_branch == target_branch)
    return (await session.execute(query)).scalars().all()


async def page_in_states(
    session: AsyncSession,
    project_id: int,
    states: Collection[str],
    *,
    target_branch: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[MergeRequestRecord], int]:
    """A page of the project's MRs in ``states``, most recently changed first, and the total."""
    conditions = [
        MergeRequestRecord.project_id == project_id,
        MergeRequestRecord.queue_state.in_(list(states)),
    ]
    if target_branch is not None:
        conditions.append(MergeRequestRecord.target_branch == target_branch)
    total = await session.scalar(
        select(func.count()).select_from(MergeRequestRecord).where(*conditions)
    )
    if limit <= 0:
        return [], int(total or 0)
    query = (
        select(MergeRequestRecord)
        .where(*conditions)
        .order_by(MergeRequestRecord.updated_at.desc(), MergeRequestRecord.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all(), int(total or 0)


async def lock_queue(
    session: AsyncSession, project_id: int, target_branch: str, states: Collection[str]
) -> Sequence[MergeRequestRecord]:
    """The queue's MRs in ``states``, read fresh and held against concurrent writers.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the queue's rows, so two priority changes of one
    queue run one after the other and the second sees the first (the cap holds).
    SQLite: a write statement that changes nothing takes the single writer lock first (what
    ``BEGIN IMMEDIATE`` would do), so the rows read next cannot change before we commit.
    """
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("UPDATE merge_requests SET id = id WHERE 0 = 1"))
    query = (
        select(MergeRequestRecord)
        .where(
            MergeRequestRecord.project_id == project_id,
            MergeRequestRecord.target_branch == target_branch,
            MergeRequestRecord.queue_state.in_(list(states)),
        )
        .order_by(MergeRequestRecord.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalars().all()


async def history_of_mr(
    session: AsyncSession, project_id: int, target_branch: str, iid: int
) -> list[MergeHistoryEntry]:
    """The history entries naming ``!iid`` in its queue, oldest first (the newest 200)."""
    # ``iids`` is a JSON list; its text is matched on both backends, then checked exactly.
    as_text = cast(MergeHistoryEntry.iids, String)
    patterns = (f"[{iid}]", f"[{iid},%", f"%, {iid}]", f"%, {iid},%", f"%,{iid}]", f"%,{iid},%")
    query = (
        select(MergeHistoryEntry)
        .where(
            MergeHistoryEntry.project_id == project_id,
            MergeHistoryEntry.target_branch == target_branch,
            or_(*(as_text.like(pattern) for pattern in patterns)),
        )
        .order_by(MergeHistoryEntry.id.desc())
        .limit(HISTORY_PER_MR)
    )
    rows = (await session.execute(query)).scalars().all()
    return [row for row in reversed(rows) if iid in (row.iids or [])]


async def batches_page(
    session: AsyncSession, project_id: int, *, before_id: int | None, limit: int
) -> Sequence[BatchOperation]:
    """The project's batch operations, newest first, older than ``before_id`` when given."""
    query = select(BatchOperation).where(BatchOperation.project_id == project_id)
    if before_id is not None:
        query = query.where(BatchOperation.id < before_id)
    query = query.order_by(BatchOperation.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def engine_states(session: AsyncSession, project_id: int) -> list[tuple[str, str]]:
    """``(target branch, state JSON)`` of every queue of the project the engine stored."""
    query = (
        select(EngineStateRow.target_branch, EngineStateRow.state_json)
        .where(EngineStateRow.project_id == project_id)
        .order_by(EngineStateRow.target_branch)
    )
    return [(branch, state) for branch, state in (await session.execute(query)).all()]


async def merge_requests_by_iid(
    session: AsyncSession, project_id: int, iids: Collection[int]
) -> dict[int, MergeRequestRecord]:
    """The project's MR rows among ``iids``, by iid."""
    if not iids:
        return {}
    query = select(MergeRequestRecord).where(
        MergeRequestRecord.project_id == project_id, MergeRequestRecord.iid.in_(sorted(iids))
    )
    return {row.iid: row for row in (await session.execute(query)).scalars()}


async def batch_operations_of(
    session: AsyncSession, project_id: int, target_branch: str, attempt_ids: Collection[int]
) -> dict[int, BatchOperation]:
    """The batch operations of one queue's attempts ``attempt_ids``, by attempt id."""
    if not attempt_ids:
        return {}
    query = select(BatchOperation).where(
        BatchOperation.project_id == project_id,
        BatchOperation.target_branch == target_branch,
        BatchOperation.attempt_id.in_(sorted(attempt_ids)),
    )
    return {row.attempt_id: row for row in (await session.execute(query)).scalars()}


async def log_lines(
    session: AsyncSession,
    *,
    project_id: int | None,
    levels: Collection[str],
    contains: str | None,
    after_id: int | None,
    limit: int,
) -> list[QueueLogEntry]:
    """Log lines in ascending id order: those after ``after_id``, else the newest ``limit``.

    ``project_id`` None means every line (projects and the product's own).
    """
    query = select(QueueLogEntry).where(QueueLogEntry.level.in_(list(levels)))
    if project_id is not None:
        query = query.where(QueueLogEntry.project_id == project_id)
    if contains:
        query = query.where(QueueLogEntry.message.ilike(f"%{_like_escape(contains)}%", escape="\\"))
    if after_id is not None:
        query = query.where(QueueLogEntry.id > after_id).order_by(QueueLogEntry.id).limit(limit)
        return list((await session.execute(query)).scalars().all())
    query = query.order_by(QueueLogEntry.id.desc()).limit(limit)
    return list(reversed((await session.execute(query)).scalars().all()))


async def merged_since(
    session: AsyncSession, project_id: int, since: datetime
) -> list[tuple[datetime | None, datetime]]:
    """``(recognised_at, merged_at)`` of the project's MRs merged since ``since`` (bounded)."""
    query = (
        select(MergeRequestRecord.recognised_at, MergeRequestRecord.merged_at)
        .where(
            MergeRequestRecord.project_id == project_id,
            MergeRequestRecord.merged_at.is_not(None),
            MergeRequestRecord.merged_at >= since,
        )
        .order_by(MergeRequestRecord.merged_at.desc())
        .limit(STATS_ROW_CAP)
    )
    rows = (await session.execute(query)).all()
    return [(recognised, merged) for recognised, merged in rows if merged is not None]


async def failure_details_since(
    session: AsyncSession, project_id: int, since: datetime, events: Collection[str]
) -> list[dict[str, Any]]:
    """The ``details`` of the project's history ``events`` since ``since`` (bounded)."""
    query = (
        select(MergeHistoryEntry.details)
        .where(
            MergeHistoryEntry.project_id == project_id,
            MergeHistoryEntry.event.in_(list(events)),
            MergeHistoryEntry.created_at >= since,
        )
        .order_by(MergeHistoryEntry.id.desc())
        .limit(STATS_ROW_CAP)
    )
    return [details or {} for details in (await session.execute(query)).scalars().all()]


ACTIVE_STATES = ("waiting", "ready", "not_ready", "merging", "in_batch")


async def activity_by_project(
    session: AsyncSession, project_ids: Collection[int]
) -> dict[int, tuple[int, datetime | None]]:
    """For each project with MRs: how many are in its queue now, and when one last changed."""
    if not project_ids:
        return {}
    queued = func.sum(case((MergeRequestRecord.queue_state.in_(ACTIVE_STATES), 1), else_=0))
    statement = (
        select(MergeRequestRecord.project_id, queued, func.max(MergeRequestRecord.updated_at))
        .where(MergeRequestRecord.project_id.in_(list(project_ids)))
        .group_by(MergeRequestRecord.project_id)
    )
    rows = (await session.execute(statement)).all()
    return {project_id: (int(count or 0), last) for project_id, count, last in rows}
