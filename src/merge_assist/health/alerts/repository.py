"""Queries of the alert tables (no rules here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from merge_assist.health.alerts.models import AlertDelivery, AlertIncident, AlertSettingsRow
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import upsert_insert

SETTINGS_ID = 1


async def settings_row(session: AsyncSession) -> AlertSettingsRow:
    """The settings row, created with the defaults on first use."""
    row = await session.get(AlertSettingsRow, SETTINGS_ID)
    if row is not None:
        return row
    table = AlertSettingsRow.__table__
    defaults: dict[str, Any] = {
        column.name: column.default.arg
        for column in table.columns
        if isinstance(column.default, ScalarElementColumnDefault)
    }
    # Two processes may both see no row: the second insert does nothing.
    await session.execute(
        upsert_insert(session.get_bind().dialect.name, table)
        .values(id=SETTINGS_ID, updated_at=utcnow(), **defaults)
        .on_conflict_do_nothing(index_elements=[table.c.id])
    )
    row = await session.get(AlertSettingsRow, SETTINGS_ID, populate_existing=True)
    assert row is not None  # just inserted or already there
    return row


async def claim_evaluation(session: AsyncSession, seen: datetime | None, until: datetime) -> bool:
    """Move ``next_evaluation_at`` from ``seen`` to ``until``; False if another process did."""
    column = AlertSettingsRow.next_evaluation_at
    result = await session.execute(
        update(AlertSettingsRow)
        .where(
            AlertSettingsRow.id == SETTINGS_ID,
            column.is_(None) if seen is None else column == seen,
        )
        .values(next_evaluation_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def open_incidents(session: AsyncSession) -> Sequence[AlertIncident]:
    rows = await session.scalars(
        select(AlertIncident).where(AlertIncident.resolved_at.is_(None)).order_by(AlertIncident.id)
    )
    return rows.all()


async def recent_incidents(session: AsyncSession, limit: int) -> Sequence[AlertIncident]:
    rows = await session.scalars(
        select(AlertIncident).order_by(AlertIncident.id.desc()).limit(limit)
    )
    return rows.all()


async def count_open(session: AsyncSession) -> int:
    found = await session.scalar(
        select(func.count()).select_from(AlertIncident).where(AlertIncident.resolved_at.is_(None))
    )
    return int(found or 0)


async def deliveries_of(
    session: AsyncSession, incident_ids: Sequence[int]
) -> Sequence[AlertDelivery]:
    rows = await session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.incident_id.in_(list(incident_ids)))
        .order_by(AlertDelivery.id)
    )
    return rows.all()


async def sent_since(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Notifications sent (or attempted) per channel since ``since``: the rate limit's count."""
    rows = await session.execute(
        select(AlertDelivery.channel, func.count())
        .where(AlertDelivery.created_at >= since, AlertDelivery.status != "rate_limited")
        .group_by(AlertDelivery.channel)
    )
    return {str(channel): int(count) for channel, count in rows.all()}
