"""The stored GitLab token: encrypted, bound to its user, read back for the vault."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import NullAuditSink
from merge_assist.auth.gitlab_identities import (
    gitlab_token_for,
    gitlab_username_for,
    pat_keyring,
    remember_token,
)
from merge_assist.auth.gitlab_rules import AcceptedToken
from merge_assist.auth.models import GitLabIdentity
from merge_assist.auth.repository import gitlab_identity_of
from merge_assist.auth.schemas import UserCreate
from merge_assist.gitlab.models import User as GitLabUser
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings

TOKEN = "sandboxpat-identity-test-0123456789"


async def _user(session: AsyncSession, settings: Settings, name: str) -> int:
    data = UserCreate(username=name, password=f"{name}-password-long-enough")
    user = await accounts.create_user(session, settings, NullAuditSink(), actor_id=None, data=data)
    return user.id


async def _remember(
    session: AsyncSession, settings: Settings, user_id: int, *, expires_in: timedelta | None
) -> GitLabIdentity:
    now = utcnow()
    return await remember_token(
        session,
        settings,
        user_id=user_id,
        gitlab_user=GitLabUser(id=100 + user_id, username=f"gl-{user_id}"),
        token=TOKEN,
        accepted=AcceptedToken(
            scopes=("api",),
            expires_at=now + expires_in if expires_in is not None else None,
            warning=None,
        ),
        now=now,
    )


async def test_the_token_is_read_back_by_its_user_only(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with unit_of_work(sessions) as session:
        alice = await _user(session, settings, "alice")
        bob = await _user(session, settings, "bob")
        identity = await _remember(session, settings, alice, expires_in=None)
        assert TOKEN not in identity.token_encrypted
        assert identity.token_encrypted.startswith("v1:1:")
    async with sessions() as session:
        assert await gitlab_token_for(session, settings, alice) == TOKEN
        assert await gitlab_username_for(session, alice) == f"gl-{alice}"
        assert await gitlab_token_for(session, settings, bob) is None
        assert await gitlab_username_for(session, bob) is None


async def test_an_envelope_moved_to_another_user_does_not_open(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with unit_of_work(sessions) as session:
        alice = await _user(session, settings, "alice")
        bob = await _user(session, settings, "bob")
        sealed = (await _remember(session, settings, alice, expires_in=None)).token_encrypted
        moved = await _remember(session, settings, bob, expires_in=None)
        moved.token_encrypted = sealed
    async with sessions() as session:
        assert await gitlab_token_for(session, settings, bob) is None
        assert await gitlab_token_for(session, settings, alice) == TOKEN


async def test_an_expired_token_is_not_handed_out(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with unit_of_work(sessions) as session:
        alice = await _user(session, settings, "alice")
        await _remember(session, settings, alice, expires_in=timedelta(seconds=-1))
        bob = await _user(session, settings, "bob")
        await _remember(session, settings, bob, expires_in=timedelta(days=1))
    async with sessions() as session:
        assert await gitlab_token_for(session, settings, alice) is None
        assert await gitlab_token_for(session, settings, bob) == TOKEN


async def test_tokens_survive_a_key_rotation_and_are_flagged_for_re_encryption(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with unit_of_work(sessions) as session:
        alice = await _user(session, settings, "alice")
        await _remember(session, settings, alice, expires_in=None)
    assert settings.secret_key is not None
    keys = f"2:{'n' * 40},1:{settings.secret_key.get_secret_value()}"
    rotated = settings.model_copy(update={"encryption_keys": SecretStr(keys)})
    async with sessions() as session:
        assert await gitlab_token_for(session, rotated, alice) == TOKEN
        identity = await gitlab_identity_of(session, alice)
        assert identity is not None
        assert pat_keyring(rotated).needs_rotation(identity.token_encrypted)
