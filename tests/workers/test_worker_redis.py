"""The worker under Redis Streams: wake-ups from another process reach the project's owner
through the consumer group, and one waiting while the owner died goes to the next owner."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.bus import RedisStreamsBus
from merge_assist.kit.bus.wake import WAKE_GROUP, publish_wake, wake_topic
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.worker import Worker
from tests.workers.conftest import Clock, RecordingRun, eventually
from tests.workers.factories import make_project

pytestmark = pytest.mark.redis


@pytest.fixture
async def redis_res(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> AsyncIterator[AppResources]:
    bus = RedisStreamsBus(redis_url, idle_ms=300, block_ms=50)
    yield AppResources(settings=settings, engine=engine, sessions=sessions, bus=bus)
    await bus.close()


async def test_wake_up_from_another_process_reaches_the_owner(
    redis_res: AppResources,
    redis_url: str,
    sessions: async_sessionmaker[AsyncSession],
    recording: RecordingRun,
    clock: Clock,
) -> None:
    project = await make_project(sessions)
    worker = Worker(redis_res, "worker-redis", recording, clock=clock)
    listener_bus = RedisStreamsBus(redis_url)  # the listener's own connection
    try:
        await worker.tick()
        await eventually(lambda: recording.count(project.id) == 1)

        # The subscription may still be creating its group: keep waking until it runs.
        async def woken() -> bool:
            if recording.count(project.id) < 2:
                await publish_wake(listener_bus, project.id, "webhook")
            return recording.count(project.id) >= 2

        await eventually(woken)
    finally:
        await worker.stop()
        await listener_bus.close()


async def test_wake_up_waiting_while_the_owner_is_dead_goes_to_the_next(
    settings: Settings,
    engine: AsyncEngine,
    redis_res: AppResources,
    redis_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    project = await make_project(sessions, polling_interval_seconds=3600)
    dying_run, next_run = RecordingRun(clock), RecordingRun(clock)
    dying = Worker(redis_res, "worker-dying", dying_run, clock=clock)
    await dying.tick()
    await eventually(lambda: dying_run.count(project.id) == 1)
    await dying.abandon()
    publisher = RedisStreamsBus(redis_url)
    next_bus = RedisStreamsBus(redis_url, idle_ms=300, block_ms=50)
    res = AppResources(settings=settings, engine=engine, sessions=sessions, bus=next_bus)
    taking = Worker(res, "worker-next", next_run, clock=clock)
    try:
        # Published while nobody reads: the group keeps it for the next owner.
        event_id = await publisher.publish(
            wake_topic(project.id), {"project_id": project.id, "reason": "webhook"}
        )
        clock.advance(settings.lease_seconds + 3 * settings.heartbeat_seconds + 1)
        await taking.tick()

        async def handed_over() -> bool:
            groups = await publisher.redis.xinfo_groups(
                publisher.stream_key(wake_topic(project.id))
            )
            [group] = [g for g in groups if g["name"] == WAKE_GROUP]
            return bool(group["last-delivered-id"] == event_id and group["pending"] == 0)

        await eventually(handed_over)  # delivered to the next owner, and acked
        await eventually(lambda: next_run.count(project.id) >= 1)
    finally:
        await taking.stop()
        await publisher.close()
        await next_bus.close()
