"""The live socket ends with its sign-in: at the token's expiry, and at once when the user's
sign-ins are ended (sign-out everywhere, new password, deactivation, role change)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import NullAuditSink
from merge_assist.auth.tokens import issue_access_token, read_access_token
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.settings import Settings
from merge_assist.server.updates import CLOSE_UNAUTHENTICATED
from tests.conftest import MakeAccount
from tests.messaging.live import authenticate, close_code, receive, serve, token_of, updates_socket


def _user_id(headers: dict[str, str], settings: Settings) -> int:
    return read_access_token(token_of(headers), key=settings.resolved_secret_key())


async def test_logout_all_closes_that_users_sockets_at_once(
    app: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    bob = await make_account("bob", "member")
    alice = await make_account("alice", "member")
    hub = hub_of(app.state.resources)
    hub.recheck_seconds = 600  # not the periodic check: the event closes it
    with serve(app) as base:
        http = base.replace("ws://", "http://")
        async with updates_socket(base) as bobs, updates_socket(base) as alices:
            assert (await authenticate(bobs, token_of(bob)))["type"] == "ready"
            assert (await authenticate(alices, token_of(alice)))["type"] == "ready"
            async with httpx.AsyncClient(base_url=http) as client:
                response = await client.post("/api/auth/logout-all", headers=bob)
                assert response.status_code == 204
            started = time.monotonic()
            assert await close_code(bobs) == CLOSE_UNAUTHENTICATED
            assert bobs.close_reason == "Your sign-in was ended; sign in again."
            assert time.monotonic() - started < 10
            hub.publish(LiveEvent.for_everyone("queue.changed", project_id=1))
            assert await receive(alices) == {"type": "queue.changed", "project_id": 1}
        # The ended token cannot open a new socket either.
        async with updates_socket(base) as again:
            await again.send(json.dumps({"type": "auth", "token": token_of(bob)}))
            assert await close_code(again) == CLOSE_UNAUTHENTICATED
            assert "ended" in (again.close_reason or "")


async def test_the_socket_closes_when_its_token_expires(
    app: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    bob_id = _user_id(await make_account("bob", "member"), settings)
    hub_of(app.state.resources).recheck_seconds = 600
    soon = issue_access_token(
        bob_id,
        key=settings.resolved_secret_key(),
        minutes=1,
        now=utcnow() - timedelta(seconds=57),
    )
    with serve(app) as base:
        async with updates_socket(base) as socket:
            assert (await authenticate(socket, soon.token))["type"] == "ready"
            started = time.monotonic()
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED
            assert "expired" in (socket.close_reason or "")
            assert time.monotonic() - started < 10


async def test_a_role_change_closes_the_socket_and_it_may_reconnect(
    app: FastAPI, make_account: MakeAccount, settings: Settings
) -> None:
    admin = await make_account("root", "admin")
    bob = await make_account("bob", "member")
    bob_id = _user_id(bob, settings)
    hub_of(app.state.resources).recheck_seconds = 600
    with serve(app) as base:
        http = base.replace("ws://", "http://")
        async with updates_socket(base) as socket:
            assert (await authenticate(socket, token_of(bob)))["type"] == "ready"
            async with httpx.AsyncClient(base_url=http) as client:
                response = await client.patch(
                    f"/api/users/{bob_id}", json={"roles": ["viewer"]}, headers=admin
                )
                assert response.status_code == 200, response.text
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED
        # The dashboard reconnects with the same token and reloads what its new roles show.
        async with updates_socket(base) as socket:
            assert (await authenticate(socket, token_of(bob)))["type"] == "ready"


async def test_a_new_password_without_a_hub_closes_at_the_next_check(
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
            await asyncio.sleep(0.2)  # checked a few times: still fine
            async with unit_of_work(sessions) as session:  # like the CLI: no hub attached
                await accounts.reset_password(
                    session,
                    settings,
                    NullAuditSink(),
                    actor_id=None,
                    user_id=bob_id,
                    password="a-new-password-long-enough",
                )
            assert await close_code(socket) == CLOSE_UNAUTHENTICATED
            assert "ended" in (socket.close_reason or "")
