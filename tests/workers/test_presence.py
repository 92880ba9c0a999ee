"""An API or listener process's heartbeats: beating while it runs, stopped when it stops."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.web import AppResources
from merge_assist.workers.models import WorkerHeartbeat
from merge_assist.workers.presence import ProcessPresence
from tests.workers.conftest import eventually


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[WorkerHeartbeat]:
    async with sessions() as session:
        return list((await session.scalars(select(WorkerHeartbeat))).all())


async def test_presence_beats_as_its_role_then_records_the_stop(
    res: AppResources, sessions: async_sessionmaker[AsyncSession]
) -> None:
    presence = ProcessPresence(res, "api")
    presence.start()

    async def beating() -> bool:
        return any(row.stopped_at is None for row in await _rows(sessions))

    await eventually(beating)
    await presence.stop()
    [row] = await _rows(sessions)
    assert row.role == "api"
    assert row.worker_id == presence.worker_id
    assert row.worker_id.startswith("api-")
    assert row.stopped_at is not None
