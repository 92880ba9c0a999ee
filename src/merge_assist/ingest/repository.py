"""Queries of the event inbox."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.db import upsert_insert


async def insert_once(
    session: AsyncSession,
    *,
    project_id: int,
    idempotency_key: str,
    event_kind: str,
    object_iid: int | None,
    received_at: datetime,
    processed_at: datetime | None,
) -> int | None:
    """Store the delivery; its id, or ``None`` when the key was stored before (one statement,
    so two concurrent deliveries of the same event cannot both be new)."""
    table = InboxEvent.__table__
    statement = (
        upsert_insert(session.get_bind().dialect.name, table)
        .values(
            project_id=project_id,
            idempotency_key=idempotency_key,
            event_kind=event_kind,
            object_iid=object_iid,
            received_at=received_at,
            processed_at=processed_at,
        )
        .on_conflict_do_nothing(index_elements=[table.c.project_id, table.c.idempotency_key])
        .returning(table.c.id)
    )
    found = (await session.execute(statement)).scalar_one_or_none()
    return None if found is None else int(found)


async def mark_processed(
    session: AsyncSession, project_id: int, *, received_until: datetime, now: datetime
) -> int:
    """Mark the project's events received up to ``received_until`` processed; how many."""
    result = await session.execute(
        update(InboxEvent)
        .where(
            InboxEvent.project_id == project_id,
            InboxEvent.processed_at.is_(None),
            InboxEvent.received_at <= received_until,
        )
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def backlog_by_project(session: AsyncSession) -> dict[int, int]:
    """Unprocessed events per project."""
    rows = await session.execute(
        select(InboxEvent.project_id, func.count())
        .where(InboxEvent.processed_at.is_(None))
        .group_by(InboxEvent.project_id)
    )
    return {int(project_id): int(count) for project_id, count in rows.all()}


async def oldest_unprocessed(
    session: AsyncSession, project_ids: Collection[int] | None = None
) -> datetime | None:
    """When the oldest unprocessed event arrived (of ``project_ids`` only, if given)."""
    query = select(func.min(InboxEvent.received_at)).where(InboxEvent.processed_at.is_(None))
    if project_ids is not None:
        query = query.where(InboxEvent.project_id.in_(list(project_ids)))
    found: datetime | None = await session.scalar(query)
    return found


async def projects_waiting_since(session: AsyncSession, received_before: datetime) -> list[int]:
    """Projects with an unprocessed event received before ``received_before``."""
    rows = await session.scalars(
        select(InboxEvent.project_id)
        .where(InboxEvent.processed_at.is_(None), InboxEvent.received_at < received_before)
        .distinct()
        .order_by(InboxEvent.project_id)
    )
    return [int(project_id) for project_id in rows.all()]


async def delete_received_before(session: AsyncSession, received_before: datetime) -> int:
    """Delete events received before ``received_before``; how many."""
    result = await session.execute(
        delete(InboxEvent)
        .where(InboxEvent.received_at < received_before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def received_since(session: AsyncSession, project_id: int, since: datetime) -> bool:
    """Whether a delivery for the project was stored at or after ``since``."""
    found = await session.execute(
        select(InboxEvent.id)
        .where(InboxEvent.project_id == project_id, InboxEvent.received_at >= since)
        .limit(1)
    )
    return found.first() is not None
