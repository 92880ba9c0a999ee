"""Queries of the assistant: the settings row and each day's usage (no rules here)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.assistant.models import SETTINGS_ROW_ID, AssistantSettingsRow, AssistantUsageRow
from merge_assist.kit.db import upsert_insert


async def settings_row(session: AsyncSession) -> AssistantSettingsRow | None:
    """The settings row, if an admin ever saved settings."""
    return await session.get(AssistantSettingsRow, SETTINGS_ROW_ID)


async def usage_of(session: AsyncSession, day: date) -> AssistantUsageRow | None:
    """The usage of ``day`` (None before its first call)."""
    return await session.get(AssistantUsageRow, day, populate_existing=True)


async def reserve_call(
    session: AsyncSession, day: date, call_limit: int | None, token_limit: int | None
) -> bool:
    """Count one call on ``day`` if the budget allows it, in one atomic statement: True when
    counted, False when the day's calls or tokens reached their limit."""
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect, AssistantUsageRow.__table__)
    await session.execute(insert.values(day=day, calls=0, tokens=0).on_conflict_do_nothing())
    statement = (
        update(AssistantUsageRow)
        .where(AssistantUsageRow.day == day)
        .values(calls=AssistantUsageRow.calls + 1)
    )
    if call_limit is not None:
        statement = statement.where(AssistantUsageRow.calls < call_limit)
    if token_limit is not None:
        statement = statement.where(AssistantUsageRow.tokens < token_limit)
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def add_tokens(session: AsyncSession, day: date, tokens: int) -> None:
    """Add ``tokens`` to ``day``'s usage (its row exists: ``reserve_call`` made it)."""
    await session.execute(
        update(AssistantUsageRow)
        .where(AssistantUsageRow.day == day)
        .values(tokens=AssistantUsageRow.tokens + tokens)
        .execution_options(synchronize_session=False)
    )
