"""Closing a user's live connections: ``UpdatesHub.close_user`` and the ``session.ended`` event."""

from __future__ import annotations

from merge_assist.kit.live.events import SESSION_ENDED, LiveEvent
from merge_assist.kit.live.hub import UpdatesHub


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
