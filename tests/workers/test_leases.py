from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from merge_assist.kit.db import create_sessionmaker, unit_of_work
from merge_assist.workers import leases
from merge_assist.workers.models import ProjectLease
from tests.workers.factories import make_project

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
SECONDS = 30

Sessions = async_sessionmaker[AsyncSession]


async def _acquire(
    sessions: Sessions, project_id: int, owner: str, now: datetime
) -> leases.Lease | None:
    async with unit_of_work(sessions) as session:
        return await leases.acquire(session, project_id, owner, now=now, seconds=SECONDS)


async def _holds(sessions: Sessions, lease: leases.Lease, now: datetime) -> bool:
    async with sessions() as session:
        return await leases.holds(session, lease, now=now)


async def test_two_workers_contend_and_one_owns(sessions: Sessions) -> None:
    project = await make_project(sessions)
    first = await _acquire(sessions, project.id, "worker-a", T0)
    second = await _acquire(sessions, project.id, "worker-b", T0 + timedelta(seconds=1))
    assert first is not None
    assert second is None
    assert await _holds(sessions, first, T0 + timedelta(seconds=1))


async def test_acquiring_again_keeps_the_token(sessions: Sessions) -> None:
    project = await make_project(sessions)
    first = await _acquire(sessions, project.id, "worker-a", T0)
    again = await _acquire(sessions, project.id, "worker-a", T0 + timedelta(seconds=5))
    assert first is not None
    assert again is not None
    assert again.token == first.token
    assert again.expires_at == T0 + timedelta(seconds=5 + SECONDS)


async def test_expired_lease_moves_and_fences_the_old_owner(sessions: Sessions) -> None:
    project = await make_project(sessions)
    old = await _acquire(sessions, project.id, "worker-a", T0)
    assert old is not None
    later = T0 + timedelta(seconds=SECONDS + 1)
    new = await _acquire(sessions, project.id, "worker-b", later)
    assert new is not None
    assert new.token == old.token + 1
    assert not await _holds(sessions, old, later)
    assert await _holds(sessions, new, later)
    async with unit_of_work(sessions) as session:
        # The old owner's renew and release do nothing once the lease changed hands.
        assert await leases.renew(session, old, now=later, seconds=SECONDS) is None
        assert not await leases.release(session, old, now=later)
    async with sessions() as session:
        row = await session.scalar(
            select(ProjectLease).where(ProjectLease.project_id == project.id)
        )
    assert row is not None
    assert row.owner == "worker-b"
    assert row.acquired_at == later


async def test_renew_extends_and_release_frees(sessions: Sessions) -> None:
    project = await make_project(sessions)
    lease = await _acquire(sessions, project.id, "worker-a", T0)
    assert lease is not None
    renewed_at = T0 + timedelta(seconds=20)
    async with unit_of_work(sessions) as session:
        renewed = await leases.renew(session, lease, now=renewed_at, seconds=SECONDS)
    assert renewed is not None
    assert renewed.expires_at == renewed_at + timedelta(seconds=SECONDS)
    # Past the first expiry but within the renewed one: nobody else can take it.
    assert await _acquire(sessions, project.id, "worker-b", T0 + timedelta(seconds=40)) is None
    async with unit_of_work(sessions) as session:
        assert await leases.release(session, renewed, now=T0 + timedelta(seconds=41))
    taken = await _acquire(sessions, project.id, "worker-b", T0 + timedelta(seconds=41))
    assert taken is not None
    assert taken.token == lease.token + 1


async def test_reacquiring_after_own_release_bumps_the_token(sessions: Sessions) -> None:
    project = await make_project(sessions)
    lease = await _acquire(sessions, project.id, "worker-a", T0)
    assert lease is not None
    async with unit_of_work(sessions) as session:
        await leases.release(session, lease, now=T0 + timedelta(seconds=1))
    again = await _acquire(sessions, project.id, "worker-a", T0 + timedelta(seconds=2))
    assert again is not None
    assert again.token == lease.token + 1
    assert not await _holds(sessions, lease, T0 + timedelta(seconds=2))


async def test_concurrent_acquisition_has_one_winner(database_url: str, sessions: Sessions) -> None:
    """Many connections race for the same lease at once; the database lets exactly one win."""
    project = await make_project(sessions)
    engine = create_async_engine(database_url, poolclass=NullPool)
    racing = create_sessionmaker(engine)
    try:
        start = asyncio.Event()

        async def contender(number: int) -> leases.Lease | None:
            await start.wait()
            return await _acquire(racing, project.id, f"worker-{number}", T0)

        tasks = [asyncio.create_task(contender(n)) for n in range(16)]
        start.set()
        won = [lease for lease in await asyncio.gather(*tasks) if lease is not None]
    finally:
        await engine.dispose()
    assert len(won) == 1
    async with sessions() as session:
        row = await session.scalar(
            select(ProjectLease).where(ProjectLease.project_id == project.id)
        )
    assert row is not None
    assert row.owner == won[0].owner
