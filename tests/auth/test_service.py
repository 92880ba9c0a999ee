"""Sign-in rules through the real app and database: throttling, records kept, rehashing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
import pytest
from argon2 import profiles
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.audit.sink import AuditLogSink
from merge_assist.auth.audit_port import AUDIT_SINK
from merge_assist.auth.models import LoginAttempt, RefreshToken, User
from merge_assist.auth.passwords import PasswordHashing
from merge_assist.auth.service import BAD_CREDENTIALS
from merge_assist.kit.db import create_sessionmaker
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources, MissingService
from merge_assist.server.app import create_resources
from tests.auth.conftest import ADMIN_PASSWORD, Account, MakeUser, sign_in

MakeClient = Callable[..., httpx.AsyncClient]


def _assert_throttled(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window
    assert (
        response.json()["detail"]
        == f"Too many failed sign-ins; try again in {retry_after} seconds."
    )


async def _age_attempts(sessions: async_sessionmaker[AsyncSession], seconds: int) -> None:
    """Move every stored attempt into the past, as if the window had passed."""
    async with sessions() as session:
        rows = (await session.scalars(select(LoginAttempt))).all()
        for row in rows:
            row.at = row.at.__class__.fromtimestamp(row.at.timestamp() - seconds, row.at.tzinfo)
        await session.commit()


async def test_failures_per_user_throttle_even_the_right_password(
    admin: Account,
    make_client: MakeClient,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings.login_max_failures_per_user = 3
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        wrong = await sign_in(make_client(address), "root", "not the right password")
        assert wrong.status_code == 401
    # from a fresh address, with the right password: still refused until the window passes
    _assert_throttled(
        await sign_in(make_client("10.0.0.9"), "root", ADMIN_PASSWORD),
        settings.login_window_seconds,
    )
    _assert_throttled(
        await sign_in(make_client("10.0.0.9"), "ROOT", ADMIN_PASSWORD),
        settings.login_window_seconds,
    )
    # other users are not affected
    other = await sign_in(make_client("10.0.0.1"), "nobody", "whatever password")
    assert other.status_code == 401

    await _age_attempts(sessions, settings.login_window_seconds)
    assert (await sign_in(make_client("10.0.0.9"), "root", ADMIN_PASSWORD)).status_code == 200


async def test_failures_per_address_throttle_every_username(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    settings.login_max_failures_per_address = 4
    attacker = make_client("1.2.3.4")
    for name in ("a-user", "b-user", "c-user", "d-user"):
        assert (await sign_in(attacker, name, "guessing passwords")).status_code == 401
    _assert_throttled(
        await sign_in(attacker, "root", ADMIN_PASSWORD), settings.login_window_seconds
    )
    # the same account from elsewhere is fine
    assert (await sign_in(make_client("5.6.7.8"), "root", ADMIN_PASSWORD)).status_code == 200


async def test_success_resets_the_per_user_count(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    settings.login_max_failures_per_user = 2
    client = make_client("10.1.1.1")
    assert (await sign_in(client, "root", "wrong password one")).status_code == 401
    assert (await sign_in(client, "root", ADMIN_PASSWORD)).status_code == 200
    assert (await sign_in(client, "root", "wrong password two")).status_code == 401
    assert (await sign_in(client, "root", ADMIN_PASSWORD)).status_code == 200


async def test_failed_attempts_are_committed_despite_the_refusal(
    admin: Account, make_client: MakeClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await sign_in(make_client("9.9.9.9"), "Root", "wrong password here")
    async with sessions() as session:
        rows = (
            await session.scalars(select(LoginAttempt).where(LoginAttempt.address == "9.9.9.9"))
        ).all()
    assert [(r.username, r.success) for r in rows] == [("root", False)]


async def test_refresh_tokens_are_stored_only_hashed(
    admin: Account, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session:
        stored = (await session.scalars(select(RefreshToken.token_hash))).all()
        dump = " ".join(
            str(v) for v in (await session.execute(text("SELECT * FROM refresh_tokens"))).all()
        )
    assert len(stored) == 1
    assert len(stored[0]) == 64
    assert admin.refresh_token not in dump


async def test_login_rehashes_a_password_made_with_old_parameters(
    admin: Account, make_client: MakeClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    old = dataclasses.replace(profiles.CHEAPEST, time_cost=2)
    old_hash = PasswordHashing(old).hash(ADMIN_PASSWORD)
    async with sessions() as session:
        await session.execute(
            update(User).where(User.id == admin.id).values(password_hash=old_hash)
        )
        await session.commit()
    assert (await sign_in(make_client(), "root", ADMIN_PASSWORD)).status_code == 200
    async with sessions() as session:
        new_hash = await session.scalar(select(User.password_hash).where(User.id == admin.id))
    assert new_hash is not None
    assert new_hash != old_hash
    assert ",t=1," in new_hash


class RecordingSink:
    def __init__(self) -> None:
        self.entries: list[tuple[int | None, str, str, bool, dict[str, object]]] = []

    async def record(
        self,
        session: AsyncSession,
        *,
        actor_id: int | None,
        action: str,
        target: str,
        success: bool,
        details: dict[str, object],
    ) -> None:
        self.entries.append((actor_id, action, target, success, details))


async def test_audit_seam_sees_logins_and_user_admin(
    app: object, admin: Account, make_client: MakeClient
) -> None:
    sink = RecordingSink()
    app.state.resources.provide(AUDIT_SINK, sink)  # type: ignore[attr-defined]
    await sign_in(make_client(), "root", "wrong password here")
    await admin.client.post("/api/users", json={"username": "zed", "password": ADMIN_PASSWORD})
    actions = [(e[1], e[3]) for e in sink.entries]
    assert actions == [("auth.login", False), ("user.create", True)]
    assert sink.entries[0][4]["refusal"] == "not_authenticated"
    assert sink.entries[0][4]["detail"] == BAD_CREDENTIALS
    assert sink.entries[0][4]["reason"] == "bad_credentials"
    assert sink.entries[1][0] == admin.id
    assert all(ADMIN_PASSWORD not in repr(e) for e in sink.entries)


def test_a_missing_audit_sink_is_an_error_naming_it_never_a_silent_no_op(
    settings: Settings, engine: AsyncEngine
) -> None:
    bare = AppResources(settings=settings, engine=engine, sessions=create_sessionmaker(engine))
    with pytest.raises(MissingService, match="audit sink"):
        bare.service(AUDIT_SINK)
    assert isinstance(create_resources(settings, engine).service(AUDIT_SINK), AuditLogSink)


async def test_make_user_helper_user_can_sign_in(make_user: MakeUser) -> None:
    hal = await make_user("hal", "member")
    assert (await hal.client.get("/api/auth/me")).json()["username"] == "hal"
