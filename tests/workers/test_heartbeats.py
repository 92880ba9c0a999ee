from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.bus.base import check_name
from merge_assist.kit.db import unit_of_work
from merge_assist.workers import heartbeats
from merge_assist.workers.heartbeats import new_worker_id
from tests.workers.conftest import T0


def test_worker_ids_are_unique_valid_bus_consumer_names() -> None:
    first, second = new_worker_id("worker"), new_worker_id("worker")
    assert first != second
    assert check_name("consumer", first) == first


async def test_live_workers_are_recent_and_not_stopped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        await heartbeats.beat(session, "recent", "worker", now=T0)
        await heartbeats.beat(session, "silent", "worker", now=T0 - timedelta(seconds=31))
        await heartbeats.beat(session, "stopped", "worker", now=T0)
        await heartbeats.stopped(session, "stopped", now=T0)
        await heartbeats.beat(session, "watching", "watcher", now=T0)
    async with sessions() as session:
        live = await heartbeats.live_workers(session, now=T0, heartbeat_seconds=10)
    assert live == 1
    async with unit_of_work(sessions) as session:
        await heartbeats.beat(session, "stopped", "worker", now=T0)  # restarted under its id
    async with sessions() as session:
        assert await heartbeats.live_workers(session, now=T0, heartbeat_seconds=10) == 2
