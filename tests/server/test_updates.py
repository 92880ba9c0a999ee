"""The live-updates WebSocket: authentication by the first message, and who is disconnected."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import NullAuditSink
from merge_assist.auth.tokens import issue_access_token, read_access_token
from merge_assist.kit.body_limit import WS_MAX_MESSAGE_BYTES
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.rate_limit import FailureWindow
from merge_assist.kit.settings import Settings
from merge_assist.server.updates import (
    CLOSE_TOO_MANY_FAILURES,
    CLOSE_UNAUTHENTICATED,
    SOCKET_REJECTIONS,
)
from tests.conftest import MakeAccount
from tests.messaging.live import (
    authenticate,
    close_code,
    receive,
    serve,
    token_of,
    updates_socket,
)

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
        # Issue 13, item 8: nested too deeply for the JSON parser (was a RecursionError).
        "[" * 5_000,
        '{"type": "auth", "token": ' + "[" * 3_000,
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


async def test_an_address_guessing_tokens_is_refused_before_it_may_try_again(
    app: FastAPI, make_account: MakeAccount
) -> None:
    """Issue 13, item 8: refused first messages are counted per address, like webhooks."""
    app.state.resources.provide(SOCKET_REJECTIONS, FailureWindow(2, 60))
    await make_account("bob", "member")
    with serve(app) as base:
        for _ in range(2):
            async with updates_socket(base) as socket:
                await socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
                assert await close_code(socket) == CLOSE_UNAUTHENTICATED
        async with updates_socket(base) as socket:  # closed before it may send anything
            assert await close_code(socket) == CLOSE_TOO_MANY_FAILURES
            assert "try again in" in (socket.close_reason or "")


async def test_a_message_past_the_size_limit_closes_the_socket(app: FastAPI) -> None:
    """Issue 13, item 8: the server reads at most WS_MAX_MESSAGE_BYTES (uvicorn's ws_max_size,
    set by every command that serves the app, as ``serve`` does here)."""
    with serve(app) as base:
        async with updates_socket(base) as socket:
            await socket.send("x" * (WS_MAX_MESSAGE_BYTES + 1))
            assert await close_code(socket) == 1009  # message too big


def test_every_server_command_bounds_websocket_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    from merge_assist.server import processes

    seen: dict[str, object] = {}
    monkeypatch.setattr(processes.uvicorn, "run", lambda app, **options: seen.update(options))
    monkeypatch.setattr(processes.migrate, "upgrade", lambda url: None)
    processes.run_api("127.0.0.1", 1)
    assert seen["ws_max_size"] == WS_MAX_MESSAGE_BYTES
    sources = [
        Path(processes.__file__).with_name(name).read_text()
        for name in ("roles.py", "standalone.py")
    ]
    assert all("ws_max_size=WS_MAX_MESSAGE_BYTES" in source for source in sources)


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
