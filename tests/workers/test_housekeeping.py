"""The watcher's hourly housekeeping (issue 13, item 15): old sign-in attempts and expired
refresh tokens are deleted, and repeated refused sign-ins are summed up once their window ends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry, RefusalTally
from merge_assist.audit.tallies import window_start
from merge_assist.auth.models import LoginAttempt, RefreshToken, User
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.watcher import Watcher
from tests.workers.conftest import T0, Clock

Sessions = async_sessionmaker[AsyncSession]


def _watcher(settings: Settings, engine: AsyncEngine, sessions: Sessions) -> Watcher:
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    return Watcher(res, "watcher-test", clock=Clock())


async def test_old_login_attempts_and_long_expired_refresh_tokens_are_deleted(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    keep_attempts = timedelta(hours=settings.login_attempts_retention_hours)
    keep_tokens = timedelta(days=settings.refresh_token_retention_days)
    async with sessions() as session, session.begin():
        user = User(username="ann", display_name="Ann", password_hash=None)
        session.add(user)
        await session.flush()
        session.add_all(
            [
                LoginAttempt(
                    username="ann",
                    address="10.0.0.9",
                    at=T0 - keep_attempts - timedelta(seconds=1),
                    success=False,
                ),
                LoginAttempt(
                    username="ann", address="10.0.0.9", at=T0 - timedelta(minutes=1), success=False
                ),
            ]
        )
        for name, expires in [
            ("long-expired", T0 - keep_tokens - timedelta(seconds=1)),
            ("just-expired", T0 - timedelta(days=1)),
            ("valid", T0 + timedelta(days=3)),
        ]:
            session.add(
                RefreshToken(
                    user_id=user.id,
                    family_id=name,
                    token_hash=name.ljust(64, "0"),
                    expires_at=expires,
                )
            )
    await _watcher(settings, engine, sessions).tick()
    async with sessions() as session:
        attempts = (await session.scalars(select(LoginAttempt.at))).all()
        families = set((await session.scalars(select(RefreshToken.family_id))).all())
    assert attempts == [T0 - timedelta(minutes=1)]
    assert families == {"just-expired", "valid"}


async def test_attempts_inside_the_throttling_window_are_kept_whatever_the_retention(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    settings = settings.model_copy(
        update={"login_attempts_retention_hours": 1, "login_window_seconds": 3 * 3600}
    )
    async with sessions() as session, session.begin():
        session.add(
            LoginAttempt(username="ann", address=None, at=T0 - timedelta(hours=2), success=False)
        )
    await _watcher(settings, engine, sessions).tick()
    async with sessions() as session:
        assert len((await session.scalars(select(LoginAttempt.id))).all()) == 1


async def test_repeated_refusals_of_a_passed_window_become_one_summary_entry(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    seconds = settings.audit_refusal_window_seconds
    passed = window_start(T0, seconds) - timedelta(seconds=seconds)
    current = window_start(T0, seconds)
    async with sessions() as session, session.begin():
        for start, address, count in [
            (passed, "10.0.0.9", 37),
            (passed, "10.0.0.8", 1),
            (current, "10.0.0.7", 5),
        ]:
            session.add(
                RefusalTally(
                    action="auth.login",
                    target="user:ann",
                    address=address,
                    reason="bad_credentials",
                    window_start=start,
                    count=count,
                    first_entry_id=None,
                    last_at=start + timedelta(seconds=5),
                )
            )
    await _watcher(settings, engine, sessions).tick()
    async with sessions() as session:
        entries = (await session.scalars(select(AuditEntry))).all()
        left = (await session.scalars(select(RefusalTally.address))).all()
    assert [(e.action, e.target_id, e.details["count"]) for e in entries] == [
        ("auth.login.repeated", "10.0.0.9", 37)
    ]
    assert entries[0].details["target"] == "user:ann"
    assert left == ["10.0.0.7"]  # its window is still open
