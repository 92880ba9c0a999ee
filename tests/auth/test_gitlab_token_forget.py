"""Stored GitLab tokens are kept no longer than needed: forgotten on request, on sign-out
everywhere, on deactivation and once expired; the account and its GitLab username stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth.gitlab_identities import (
    gitlab_api_token_for,
    gitlab_token_for,
    gitlab_username_for,
    remember_token,
)
from merge_assist.auth.gitlab_rules import AcceptedToken
from merge_assist.auth.repository import gitlab_identity_of
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from tests.auth.conftest import Account, MakeUser

TOKEN = "sandboxpat-forget-test-0123456789"


async def _store_token(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    user_id: int,
    expires_in: timedelta = timedelta(days=30),
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        await remember_token(
            session,
            settings,
            user_id=user_id,
            gitlab_user=GitLabUser(id=500 + user_id, username=f"gl-{user_id}"),
            token=TOKEN,
            accepted=AcceptedToken(scopes=("api",), expires_at=now + expires_in, warning=None),
            now=now,
        )
        assert await gitlab_token_for(session, settings, user_id) == TOKEN


async def _stored(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, user_id: int
) -> str | None:
    async with unit_of_work(sessions) as session:
        identity = await gitlab_identity_of(session, user_id)
        assert identity is not None  # the identity (and username) stays
        assert await gitlab_username_for(session, user_id) == f"gl-{user_id}"
        return identity.token_encrypted


async def test_a_user_can_ask_to_forget_their_gitlab_token(
    make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bob = await make_user("bob", "member")
    await _store_token(sessions, settings, bob.id)
    response = await bob.client.delete("/api/auth/gitlab-token")
    assert response.status_code == 204, response.text
    assert await _stored(sessions, settings, bob.id) is None
    async with unit_of_work(sessions) as session:
        assert await gitlab_token_for(session, settings, bob.id) is None
        assert await gitlab_api_token_for(session, settings, bob.id) is None
    again = await bob.client.delete("/api/auth/gitlab-token")
    assert again.status_code == 204  # nothing stored: still fine
    assert (await bob.client.get("/api/auth/me")).status_code == 200  # still signed in


async def test_forgetting_needs_a_sign_in(make_user: MakeUser) -> None:
    bob = await make_user("bob", "member")
    del bob.client.headers["Authorization"]
    assert (await bob.client.delete("/api/auth/gitlab-token")).status_code == 401


async def test_deactivation_deletes_the_stored_gitlab_token(
    admin: Account,
    make_user: MakeUser,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    bob = await make_user("bob", "member")
    await _store_token(sessions, settings, bob.id)
    assert (await admin.client.post(f"/api/users/{bob.id}/deactivate")).status_code == 200
    assert await _stored(sessions, settings, bob.id) is None


async def test_signing_out_everywhere_deletes_the_stored_gitlab_token(
    make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bob = await make_user("bob", "member")
    await _store_token(sessions, settings, bob.id)
    assert (await bob.client.post("/api/auth/logout-all")).status_code == 204
    assert await _stored(sessions, settings, bob.id) is None


async def test_an_expired_token_is_deleted_when_found(
    make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bob = await make_user("bob", "member")
    await _store_token(sessions, settings, bob.id, expires_in=timedelta(seconds=1))
    async with unit_of_work(sessions) as session:
        identity = await gitlab_identity_of(session, bob.id)
        assert identity is not None
        identity.expires_at = utcnow() - timedelta(days=1)
    async with unit_of_work(sessions) as session:
        assert await gitlab_token_for(session, settings, bob.id) is None
    assert await _stored(sessions, settings, bob.id) is None
