"""Live events: what they are, the hub's fan-out, and delivery after commit."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.live.publish import attach, publish_after_commit

# --- events -------------------------------------------------------------------------------


def test_events_are_typed_json_objects() -> None:
    event = LiveEvent.for_users("message.new", [3, 3, 4], message_id=7)
    assert event.user_ids == frozenset({3, 4})
    assert event.encode() == '{"type": "message.new", "message_id": 7}'
    assert LiveEvent.for_everyone("queue.changed").user_ids is None


@pytest.mark.parametrize("bad_type", ["", "Message", "message.", "message new", "1st"])
def test_event_types_are_dotted_lowercase_names(bad_type: str) -> None:
    with pytest.raises(ValueError, match="type"):
        LiveEvent.for_everyone(bad_type)


def test_event_data_must_be_json_without_its_own_type() -> None:
    with pytest.raises(ValueError, match="'type'"):
        LiveEvent.for_everyone("a.b", type="other")
    with pytest.raises(TypeError, match="JSON"):
        LiveEvent.for_everyone("a.b", value=object()).encode()
    with pytest.raises(TypeError, match="JSON"):
        LiveEvent.for_everyone("a.b", value=float("nan")).encode()
    assert (
        '"at": "2026-01-01'
        in LiveEvent.for_everyone("a.b", at=utcnow().replace(2026, 1, 1)).encode()
    )


# --- hub ----------------------------------------------------------------------------------


async def _drain(queue: asyncio.Queue[str | None]) -> list[str | None]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def test_addressed_events_reach_only_their_users() -> None:
    hub = UpdatesHub()
    bob_tab1, bob_tab2, carol = hub.connect(2), hub.connect(2), hub.connect(3)
    assert hub.connection_count() == 3
    assert hub.connection_count(2) == 2

    assert hub.publish(LiveEvent.for_users("message.new", [2], message_id=1)) == 2
    assert hub.publish(LiveEvent.for_users("message.new", [99], message_id=2)) == 0
    assert hub.publish(LiveEvent.for_everyone("queue.changed", project_id=5)) == 3

    expected_bob = [
        '{"type": "message.new", "message_id": 1}',
        '{"type": "queue.changed", "project_id": 5}',
    ]
    assert await _drain(bob_tab1.queue) == expected_bob
    assert await _drain(bob_tab2.queue) == expected_bob
    assert await _drain(carol.queue) == ['{"type": "queue.changed", "project_id": 5}']

    hub.disconnect(bob_tab1)
    hub.disconnect(bob_tab1)
    assert hub.publish(LiveEvent.for_users("message.new", [2], message_id=3)) == 1
    assert await _drain(bob_tab1.queue) == []


async def test_a_connection_that_falls_behind_is_ended() -> None:
    hub = UpdatesHub(queue_limit=2)
    slow = hub.connect(1)
    for index in range(5):
        hub.publish(LiveEvent.for_users("message.new", [1], message_id=index))
    items = await _drain(slow.queue)
    assert items[:2] == [
        '{"type": "message.new", "message_id": 0}',
        '{"type": "message.new", "message_id": 1}',
    ]
    assert items[2:] == [None]
    assert slow.dropped


async def test_publishing_from_another_thread_reaches_the_socket_loop() -> None:
    hub = UpdatesHub()
    connection = hub.connect(1)
    event = LiveEvent.for_users("message.new", [1], message_id=9)
    worker = threading.Thread(target=hub.publish, args=(event,))
    worker.start()
    received = await asyncio.wait_for(connection.next(), timeout=30)
    worker.join()
    assert received == event.encode()


def test_hub_settings_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        UpdatesHub(queue_limit=0)


# --- delivery after commit ------------------------------------------------------------------


async def test_events_are_delivered_only_after_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hub = UpdatesHub()
    connection = hub.connect(1)
    event = LiveEvent.for_users("message.new", [1], message_id=1)
    async with sessions() as session:
        attach(session, hub)
        await session.execute(text("SELECT 1"))
        publish_after_commit(session, event)
        await session.flush()
        assert connection.queue.empty()
        await session.commit()
        assert await _drain(connection.queue) == [event.encode()]
        # A second transaction on the same session delivers only its own events.
        await session.execute(text("SELECT 1"))
        await session.commit()
        assert connection.queue.empty()


async def test_events_of_a_rolled_back_transaction_are_dropped(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hub = UpdatesHub()
    connection = hub.connect(1)

    async def failing_action() -> None:
        async with unit_of_work(sessions) as session:
            attach(session, hub)
            await session.execute(text("SELECT 1"))
            publish_after_commit(session, LiveEvent.for_users("message.new", [1], message_id=1))
            raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        await failing_action()
    async with sessions() as session:
        attach(session, hub)
        await session.execute(text("SELECT 1"))
        publish_after_commit(session, LiveEvent.for_users("message.new", [1], message_id=2))
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert connection.queue.empty()


async def test_without_a_hub_events_are_dropped_quietly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        await session.execute(text("SELECT 1"))
        publish_after_commit(session, LiveEvent.for_everyone("queue.changed"))
    assert "merge_assist.updates.pending" not in session.info


async def test_publishing_bad_data_fails_in_the_caller(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(TypeError):
            publish_after_commit(session, LiveEvent.for_everyone("a.b", value=object()))
