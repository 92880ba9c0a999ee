"""One contract, two buses: the in-process bus and Redis Streams on a private redis-server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from merge_assist.kit.bus import (
    BusUnavailable,
    Delivery,
    Event,
    EventBus,
    InProcessBus,
    RedisStreamsBus,
    Subscription,
    bus_from_settings,
)
from merge_assist.kit.settings import Settings
from tests.redis_server import free_port, private_redis

IDLE_MS = 200
WAIT = 10.0  # generous upper bound for something that must arrive; never asserted on


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free loopback port, without persistence, for this session."""
    with private_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """A bus of each kind, with a short redelivery delay; closed after the test."""
    built: EventBus
    if request.param == "memory":
        built = InProcessBus(idle_ms=IDLE_MS)
    else:
        built = RedisStreamsBus(request.getfixturevalue("redis_url"), idle_ms=IDLE_MS, block_ms=50)
    yield built
    await built.close()


@pytest.fixture
def topic() -> str:
    """A topic of its own for each test (the Redis server is shared by the session)."""
    return f"test.{uuid.uuid4().hex[:12]}"


async def _next(subscription: Subscription) -> Delivery:
    delivery = await subscription.next(WAIT)
    assert delivery is not None, f"nothing delivered to {subscription!r}"
    return delivery


# -- the contract --------------------------------------------------------------------------


async def test_publish_and_consume(bus: EventBus, topic: str) -> None:
    async with bus.subscribe(topic, "workers", "w1") as subscription:
        event_id = await bus.publish(topic, {"project_id": 42, "kinds": ["mr"]})
        delivery = await _next(subscription)
        assert delivery.event == Event(topic, {"project_id": 42, "kinds": ["mr"]}, event_id)
        assert delivery.attempt == 1
        await delivery.ack()


async def test_zero_wait_polls_once(bus: EventBus, topic: str) -> None:
    async with bus.subscribe(topic, "workers", "w1") as subscription:
        assert await subscription.next(0.0) is None
        event_id = await bus.publish(topic, {"project_id": 1})
        delivery = await subscription.next(0.0)
        assert delivery is not None
        assert delivery.event.id == event_id


async def test_event_ids_follow_publication_order(bus: EventBus, topic: str) -> None:
    async with bus.subscribe(topic, "workers", "w1") as subscription:
        ids = [await bus.publish(topic, {"n": n}) for n in range(3)]
        received = [(await _next(subscription)).event for _ in ids]
    assert [event.id for event in received] == ids
    assert [event.payload["n"] for event in received] == [0, 1, 2]
    assert len(set(ids)) == 3


async def test_every_group_gets_every_event(bus: EventBus, topic: str) -> None:
    async with (
        bus.subscribe(topic, "workers", "w1") as workers,
        bus.subscribe(topic, "dashboard", "d1") as dashboard,
    ):
        ids = [await bus.publish(topic, {"n": n}) for n in range(3)]
        for subscription in (workers, dashboard):
            got = []
            for _ in ids:
                delivery = await _next(subscription)
                got.append(delivery.event.id)
                await delivery.ack()
            assert got == ids


async def test_consumers_of_one_group_split_events(bus: EventBus, topic: str) -> None:
    async with (
        bus.subscribe(topic, "workers", "w1") as first,
        bus.subscribe(topic, "workers", "w2") as second,
    ):
        ids = [await bus.publish(topic, {"n": n}) for n in range(6)]
        seen: dict[str, list[str]] = {"w1": [], "w2": []}
        for _ in range(3):
            for subscription in (first, second):
                delivery = await _next(subscription)
                seen[subscription.consumer].append(delivery.event.id)
                await delivery.ack()
        assert sorted(seen["w1"] + seen["w2"]) == sorted(ids)  # each exactly once
        assert len(seen["w1"]) == len(seen["w2"]) == 3
        # Everything was acked: nothing comes back, even after the redelivery delay.
        assert await first.next(IDLE_MS * 3 / 1000) is None
        assert await second.next(0.0) is None


async def test_unacked_event_goes_to_another_consumer(bus: EventBus, topic: str) -> None:
    async with (
        bus.subscribe(topic, "workers", "w1") as crashed,
        bus.subscribe(topic, "workers", "w2") as survivor,
    ):
        event_id = await bus.publish(topic, {"project_id": 7})
        first = await _next(crashed)  # never acked: w1 "dies" holding it
        again = await _next(survivor)
        assert again.event == first.event
        assert again.event.id == event_id
        assert again.attempt == 2
        await again.ack()
        assert await crashed.next(IDLE_MS * 3 / 1000) is None


async def test_ack_prevents_redelivery(bus: EventBus, topic: str) -> None:
    async with (
        bus.subscribe(topic, "workers", "w1") as first,
        bus.subscribe(topic, "workers", "w2") as second,
    ):
        await bus.publish(topic, {"project_id": 7})
        await (await _next(first)).ack()
        assert await second.next(IDLE_MS * 3 / 1000) is None


async def test_ack_through_the_subscription(bus: EventBus, topic: str) -> None:
    async with bus.subscribe(topic, "workers", "w1") as subscription:
        await bus.publish(topic, {"project_id": 1})
        delivery = await _next(subscription)
        await subscription.ack(delivery.event)
        assert await subscription.next(IDLE_MS * 3 / 1000) is None


async def test_group_sees_events_published_after_it_was_created(bus: EventBus, topic: str) -> None:
    await bus.publish(topic, {"n": "before"})
    async with bus.subscribe(topic, "late", "l1") as subscription:
        await bus.publish(topic, {"n": "after"})
        assert (await _next(subscription)).event.payload == {"n": "after"}


async def test_topics_are_separate(bus: EventBus, topic: str) -> None:
    async with bus.subscribe(topic, "workers", "w1") as subscription:
        await bus.publish(topic + ".other", {"n": 1})
        assert await subscription.next(0.1) is None


async def test_iteration_ends_when_the_subscription_closes(bus: EventBus, topic: str) -> None:
    subscription = bus.subscribe(topic, "workers", "w1")
    await subscription.start()
    received: list[Event] = []

    async def consume() -> None:
        async for delivery in subscription:
            received.append(delivery.event)
            await delivery.ack()
            if len(received) == 2:
                await subscription.close()

    reader = asyncio.create_task(consume())
    await bus.publish(topic, {"n": 1})
    await bus.publish(topic, {"n": 2})
    await asyncio.wait_for(reader, WAIT)
    assert [event.payload["n"] for event in received] == [1, 2]
    assert subscription.closed
    assert await subscription.next(0.0) is None


async def test_closing_the_bus_ends_a_waiting_read(bus: EventBus, topic: str) -> None:
    subscription = bus.subscribe(topic, "workers", "w1")
    await subscription.start()
    waiting = asyncio.create_task(subscription.next(None))
    await asyncio.sleep(0.1)  # let the read start waiting (correct without it, too)
    await bus.close()
    assert await asyncio.wait_for(waiting, WAIT) is None
    with pytest.raises(RuntimeError, match="closed"):
        await bus.publish(topic, {})


async def test_closing_the_bus_ends_an_iteration(bus: EventBus, topic: str) -> None:
    """``async for`` ends (it does not spin on ``None``) once the bus is closed."""
    subscription = bus.subscribe(topic, "workers", "w1")
    await subscription.start()

    async def consume() -> int:
        return len([delivery async for delivery in subscription])

    reader = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    await bus.close()
    assert await asyncio.wait_for(reader, WAIT) == 0
    assert subscription.closed


async def test_payloads_must_be_json(bus: EventBus, topic: str) -> None:
    with pytest.raises(TypeError, match="JSON"):
        await bus.publish(topic, {"when": object()})


@pytest.mark.parametrize("name", ["", "has space", "x" * 201])
async def test_names_are_checked(bus: EventBus, name: str) -> None:
    with pytest.raises(ValueError, match="topic"):
        await bus.publish(name, {})
    with pytest.raises(ValueError, match="group"):
        bus.subscribe("ok", name, "c1")


# -- Redis specifics -----------------------------------------------------------------------


@pytest.mark.redis
async def test_redis_group_keeps_events_while_its_consumers_are_away(
    redis_url: str, topic: str
) -> None:
    """A restarted process picks up what was published while it was down."""
    first = RedisStreamsBus(redis_url, idle_ms=IDLE_MS, block_ms=50)
    await first.subscribe(topic, "workers", "w1").start()
    await first.close()
    publisher = RedisStreamsBus(redis_url)
    event_id = await publisher.publish(topic, {"project_id": 3})
    await publisher.close()
    restarted = RedisStreamsBus(redis_url, idle_ms=IDLE_MS, block_ms=50)
    try:
        async with restarted.subscribe(topic, "workers", "w1") as subscription:
            assert (await _next(subscription)).event.id == event_id
    finally:
        await restarted.close()


@pytest.mark.redis
async def test_redis_stream_key_and_trimming(redis_url: str, topic: str) -> None:
    bus = RedisStreamsBus(redis_url, maxlen=10)
    try:
        for n in range(300):
            await bus.publish(topic, {"n": n})
        length = await bus.redis.xlen(f"merge-assist:{topic}")
    finally:
        await bus.close()
    assert 10 <= length < 300  # "MAXLEN ~" trims whole nodes, so about, not exactly, 10


async def test_unreachable_redis_is_reported() -> None:
    bus = RedisStreamsBus(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(BusUnavailable, match="not reachable"):
            await bus.publish("project.changed", {"project_id": 1})
    finally:
        await bus.close()


def test_bus_from_settings(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with_redis = Settings(
        data_dir=tmp_path,
        redis_url="redis://127.0.0.1:6379/0",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert isinstance(bus_from_settings(plain), InProcessBus)
    assert isinstance(bus_from_settings(with_redis), RedisStreamsBus)


async def test_in_process_group_keeps_the_newest_events_when_full(topic: str) -> None:
    bus = InProcessBus(idle_ms=IDLE_MS, maxlen=2)
    try:
        async with bus.subscribe(topic, "workers", "w1") as subscription:
            ids = [await bus.publish(topic, {"n": n}) for n in range(3)]
            received = [(await _next(subscription)).event.id for _ in range(2)]
            assert received == ids[1:]
            assert await subscription.next(0.0) is None
    finally:
        await bus.close()
