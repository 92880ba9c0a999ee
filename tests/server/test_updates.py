"""Live updates: events, the hub's fan-out, delivery after commit, and the WebSocket."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.service import NullAuditSink
from merge_assist.auth.tokens import issue_access_token, read_access_token
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.live.publish import attach, publish_after_commit
from merge_assist.kit.settings import Settings
from merge_assist.server.updates import CLOSE_UNAUTHENTICATED
from tests.conftest import MakeAccount
from tests.messaging.live import (
    authenticate,
    close_code,
    receive,
    serve,
    token_of,
    updates_socket,
)

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


# --- the WebSocket ------------------------------------------------------------------------


def _user_id(headers: dict[str, str], settings: Settings) -> int:
    return read_access_token(token_of(headers), key=settings.resolved_secret_key())


async def test_the_socket_authenticates_with_the_first_message(
    app: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    bob = await make_account("bob", "member")
    bob_id = _user_id(bob, settings)
    hub = hub_of(app.state.resources)
    with serve(app) as base:
        async with updates_socket(base) as socket:
            assert await authenticate(socket, token_of(bob)) == {"type": "ready", "user_id": bob_id}
            assert hub.connection_count(bob_id) == 1
            # From the test's loop: the hub hands the event over to the server's loop.
            hub.publish(LiveEvent.for_everyone("queue.changed", project_id=4))
            assert await receive(socket) == {"type": "queue.changed", "project_id": 4}
            hub.publish(LiveEvent.for_users("message.new", [bob_id + 1], message_id=1))
            hub.publish(LiveEvent.for_users("message.new", [bob_id], message_id=2))
            assert await receive(socket) == {"type": "message.new", "message_id": 2}
            await socket.send('{"type": "ping"}')  # anything the client says is ignored
            hub.publish(LiveEvent.for_users("message.new", [bob_id], message_id=3))
            assert (await receive(socket))["message_id"] == 3
        for _ in range(500):  # the server notices the close on its own loop
            if hub.connection_count() == 0:
                break
            await asyncio.sleep(0.01)
        assert hub.connection_count() == 0


@pytest.mark.parametrize(
    "first_message",
    [
        '{"type": "auth", "token": "not-a-jwt"}',
        '{"type": "auth"}',
        '{"type": "auth", "token": 12}',
        '{"type": "hello", "token": "x"}',
        '["auth"]',
        "not json",
        "x" * 10_000,
        b"binary",
    ],
)
async def test_a_bad_first_message_closes_with_4401(
    app: FastAPI, make_account: MakeAccount, first_message: str | bytes
) -> None:
    await make_account("bob", "member")
    with serve(app) as base:
        async with updates_socket(base) as socket:
            await socket.send(first_message)
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED


async def test_expired_or_foreign_tokens_close_with_4401(
    app: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    bob_id = _user_id(await make_account("bob", "member"), settings)
    key = settings.resolved_secret_key()
    expired = issue_access_token(bob_id, key=key, minutes=5, now=utcnow() - timedelta(hours=1))
    foreign = issue_access_token(bob_id, key="another-key-" + key, minutes=5)
    with serve(app) as base:
        for token in (expired.token, foreign.token):
            async with updates_socket(base) as socket:
                await socket.send(json.dumps({"type": "auth", "token": token}))
                assert await close_code(socket) == CLOSE_UNAUTHENTICATED


async def test_deactivated_users_are_refused_and_disconnected(
    app: FastAPI,
    make_account: MakeAccount,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bob = await make_account("bob", "member")
    bob_id = _user_id(bob, settings)
    hub_of(app.state.resources).recheck_seconds = 0.05
    with serve(app) as base:
        async with updates_socket(base) as socket:
            assert (await authenticate(socket, token_of(bob)))["type"] == "ready"
            async with unit_of_work(sessions) as session:
                await accounts.deactivate_user(
                    session, NullAuditSink(), actor_id=None, user_id=bob_id
                )
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED
        async with updates_socket(base) as socket:
            await socket.send(json.dumps({"type": "auth", "token": token_of(bob)}))
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED
