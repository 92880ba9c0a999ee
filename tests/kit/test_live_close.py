"""Closing a user's live connections: ``UpdatesHub.close_user`` and the ``session.ended`` event."""

from __future__ import annotations

import asyncio

import pytest

from merge_assist.kit.live.app_hub import hub_of, start_live_relay
from merge_assist.kit.live.events import SESSION_ENDED, LiveEvent
from merge_assist.kit.live.hub import UpdatesHub
from tests.kit.test_live_relay import Process, commit_events, processes

__all__ = ["processes"]  # the fixture, shared with the relay's tests


async def test_close_user_ends_only_that_users_connections() -> None:
    hub = UpdatesHub()
    bob, bobs_other, alice = hub.connect(1), hub.connect(1), hub.connect(2)
    assert hub.close_user(1) == 2
    for connection in (bob, bobs_other):
        assert connection.ended
        assert await connection.next() is None
    assert not alice.ended
    hub.publish(LiveEvent.for_users("message.new", [1, 2], message_id=5))
    assert bob.queue.empty()  # an ended connection hears nothing more
    assert await alice.next() == '{"type": "message.new", "message_id": 5}'


async def test_the_session_ended_event_ends_connections_where_it_is_delivered() -> None:
    hub = UpdatesHub()
    bob, alice = hub.connect(1), hub.connect(2)
    assert hub.deliver(LiveEvent.for_users(SESSION_ENDED, [1])) == 1
    assert bob.ended
    assert await bob.next() is None
    assert not alice.ended
    assert alice.queue.empty()


@pytest.mark.redis
async def test_session_ended_closes_the_users_sockets_on_every_process(
    processes: Process,
) -> None:
    worker, api_one, api_two = await processes(), await processes(), await processes()
    await start_live_relay(api_one)
    await start_live_relay(api_two)
    bob_one, bob_two = hub_of(api_one).connect(1), hub_of(api_two).connect(1)
    alice = hub_of(api_two).connect(2)
    # Like the CLI with Redis, or another API process: the event crosses the bus.
    await commit_events(worker, LiveEvent.for_users(SESSION_ENDED, [1]))
    for bob in (bob_one, bob_two):
        assert await asyncio.wait_for(bob.next(), 10) is None
        assert bob.ended
    assert not alice.ended
    assert alice.queue.empty()
