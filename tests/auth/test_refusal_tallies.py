"""Unauthenticated traffic cannot grow the audit log without bound (issue 13, item 15)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry, RefusalTally
from tests.auth.conftest import MakeUser


async def _login_failures(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        statement = select(AuditEntry).where(
            AuditEntry.action == "auth.login", AuditEntry.success.is_(False)
        )
        return list((await session.scalars(statement)).all())


async def test_a_flood_of_wrong_passwords_adds_one_entry_per_kind_and_window(
    make_user: MakeUser,
    make_client: Callable[..., httpx.AsyncClient],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("ann")
    client = make_client("203.0.113.7")
    statuses = []
    for _ in range(30):
        response = await client.post(
            "/api/auth/login", json={"username": "ann", "password": "wrong-password"}
        )
        statuses.append(response.status_code)
    assert set(statuses) == {401, 429}
    entries = await _login_failures(sessions)
    # One entry for the wrong passwords, one for the throttled attempts: not thirty.
    assert sorted(entry.details["reason"] for entry in entries) == ["bad_credentials", "throttled"]
    assert all("repeats_counted_until" in entry.details for entry in entries)
    async with sessions() as session:
        tallies = {t.reason: t.count for t in (await session.scalars(select(RefusalTally))).all()}
    assert tallies == {"bad_credentials": statuses.count(401), "throttled": statuses.count(429)}


async def test_guessing_user_names_while_throttled_does_not_add_entries(
    make_client: Callable[..., httpx.AsyncClient],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    client = make_client("203.0.113.8")
    for index in range(40):
        await client.post(
            "/api/auth/login", json={"username": f"guess-{index}", "password": "nope-nope"}
        )
    entries = await _login_failures(sessions)
    throttled = [e for e in entries if e.details["reason"] == "throttled"]
    assert len(throttled) == 1
    # Before the address is throttled, each new name is its own kind (bounded by the limit).
    assert len(entries) <= 20 + 1


async def test_another_address_gets_its_own_entry(
    make_user: MakeUser,
    make_client: Callable[..., httpx.AsyncClient],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("ann")
    for address in ("198.51.100.1", "198.51.100.2"):
        await make_client(address).post(
            "/api/auth/login", json={"username": "ann", "password": "wrong-password"}
        )
    entries = await _login_failures(sessions)
    assert sorted(entry.details["address"] for entry in entries) == [
        "198.51.100.1",
        "198.51.100.2",
    ]
