"""Wake-ups: the bus of the app's resources, and a wake-up that waits for the commit."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.bus import InProcessBus
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, wake_after_commit, wake_topic
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources

QUIET = 0.2  # how long to listen for a wake-up that must not come


def _resources(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AppResources:
    return AppResources(settings=settings, engine=engine, sessions=sessions, bus=InProcessBus())


async def test_the_bus_is_made_from_the_settings_on_first_use_then_shared(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    assert res.bus is None
    bus = bus_of(res)
    assert isinstance(bus, InProcessBus)
    assert bus_of(res) is bus is res.bus
    await bus.close()


async def test_a_wake_after_commit_goes_out_only_once_the_session_commits(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res = _resources(settings, engine, sessions)
    async with bus_of(res).subscribe(wake_topic(7), WAKE_GROUP, "owner") as wakes:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            wake_after_commit(session, res, 7, "config")
            await asyncio.sleep(QUIET)
            assert await wakes.next(QUIET) is None  # not before the commit
            await session.commit()
        delivery = await wakes.next(5)
    assert delivery is not None
    assert delivery.event.payload == {"project_id": 7, "reason": "config"}


async def test_a_wake_after_commit_is_dropped_on_rollback(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res = _resources(settings, engine, sessions)
    async with bus_of(res).subscribe(wake_topic(7), WAKE_GROUP, "owner") as wakes:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))
            wake_after_commit(session, res, 7, "priority")
            await session.rollback()
            await session.commit()  # a later commit does not send what was rolled back
        assert await wakes.next(QUIET) is None
