"""Live events across processes: with Redis, an event committed in one process (a worker)
reaches the sockets of every API process, once each, for its audience only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.bus import InProcessBus, RedisStreamsBus
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import close_live_relay, hub_of, start_live_relay
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.hub import Connection
from merge_assist.kit.live.publish import attach, publish_after_commit
from merge_assist.kit.live.relay import LiveRelay, decode, encode
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources

Process = Callable[[], Awaitable[AppResources]]
QUIET = 0.3  # how long a socket is watched for an event that must not come


def test_events_cross_the_bus_with_their_audience() -> None:
    event = LiveEvent.for_users("mr.updated", [4, 2], project_id=1, mr={"iid": 3})
    assert decode(encode(event)) == event
    everyone = LiveEvent.for_everyone("queue.changed")
    assert decode(encode(everyone)) == everyone
    with pytest.raises(ValueError, match="live event"):
        decode({"type": "x", "data": [], "user_ids": None})


async def test_without_redis_the_hub_delivers_directly(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res = AppResources(settings=settings, engine=engine, sessions=sessions, bus=InProcessBus())
    assert hub_of(res).relay is None


@pytest.fixture
async def processes(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> AsyncIterator[Process]:
    """Builds the resources of one process each (its own bus connection and hub)."""
    built: list[AppResources] = []
    on_redis = settings.model_copy(update={"redis_url": redis_url})

    async def build() -> AppResources:
        res = AppResources(settings=on_redis, engine=engine, sessions=sessions)
        built.append(res)
        return res

    yield build
    for res in built:
        await close_live_relay(res)
        if res.bus is not None:
            await res.bus.close()


async def commit_events(res: AppResources, *events: LiveEvent) -> None:
    """What the engine does in a step: publish on the session, delivered after commit."""
    async with unit_of_work(res.sessions) as session:
        attach(session, hub_of(res))
        for live_event in events:
            publish_after_commit(session, live_event)


async def failing_step(res: AppResources) -> None:
    """A step that publishes, then fails: its transaction rolls back."""
    async with unit_of_work(res.sessions) as session:
        attach(session, hub_of(res))
        publish_after_commit(session, LiveEvent.for_users("mr.updated", [1], project_id=1))
        raise RuntimeError("the step failed")


async def received(connection: Connection, count: int) -> list[str]:
    """The next ``count`` events of the socket, then checks that nothing else comes."""
    texts = [await asyncio.wait_for(connection.next(), 10) for _ in range(count)]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(connection.next(), QUIET)
    return [text or "" for text in texts]


@pytest.mark.redis
async def test_an_event_of_a_worker_process_reaches_every_api_process_once(
    processes: Process,
) -> None:
    worker, api_one, api_two = await processes(), await processes(), await processes()
    await start_live_relay(api_one)
    await start_live_relay(api_two)
    assert isinstance(hub_of(worker).relay, LiveRelay)
    alice_one, alice_two = hub_of(api_one).connect(1), hub_of(api_two).connect(1)
    bob_two = hub_of(api_two).connect(2)

    await commit_events(
        worker,
        LiveEvent.for_users("mr.updated", [1], project_id=7, mr={"iid": 3}),
        LiveEvent.for_users("batch.updated", [2], project_id=8, batch={"id": 1}),
        LiveEvent.for_everyone("queue.changed"),
    )

    expected_alice = [
        '{"type": "mr.updated", "project_id": 7, "mr": {"iid": 3}}',
        '{"type": "queue.changed"}',
    ]
    assert await received(alice_one, 2) == expected_alice
    assert await received(alice_two, 2) == expected_alice
    assert await received(bob_two, 2) == [
        '{"type": "batch.updated", "project_id": 8, "batch": {"id": 1}}',
        '{"type": "queue.changed"}',
    ]


@pytest.mark.redis
async def test_serve_hears_its_own_events_once_and_a_rollback_sends_nothing(
    processes: Process,
) -> None:
    """``serve`` with Redis: publisher and sockets share the process, one copy each."""
    serve, other = await processes(), await processes()
    await start_live_relay(serve)
    await start_live_relay(other)
    here, there = hub_of(serve).connect(1), hub_of(other).connect(1)
    with pytest.raises(RuntimeError):
        await failing_step(serve)
    await commit_events(serve, LiveEvent.for_users("message.new", [1], message_id=5))
    assert await received(here, 1) == ['{"type": "message.new", "message_id": 5}']
    assert await received(there, 1) == ['{"type": "message.new", "message_id": 5}']


@pytest.mark.redis
async def test_a_stopped_process_removes_its_group(processes: Process, redis_url: str) -> None:
    api = await processes()
    await start_live_relay(api)
    relay = hub_of(api).relay
    assert isinstance(relay, LiveRelay)
    probe = RedisStreamsBus(redis_url)
    try:
        key = probe.stream_key("live.events")
        assert [g["name"] for g in await probe.redis.xinfo_groups(key)] == [relay.group]
        await close_live_relay(api)
        assert await probe.redis.xinfo_groups(key) == []
    finally:
        await probe.close()
