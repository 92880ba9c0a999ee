"""A train through the database-backed runner: the stored config picks it, its cars are shown
as batch operations, its events reach the queue log and the audit log."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry
from merge_assist.kit.settings import Settings
from merge_assist.merging.persistence.models import QueueLogEntry
from tests.merging.persistence.runner_support import (
    WorldPort,
    add_project,
    batches,
    drive,
    history,
    queue_states,
    resources,
)
from tests.merging.world import World

TEN = list(range(1, 11))


@pytest.mark.parametrize("landing", ["merge_api", "push"])
async def test_a_train_lands_in_cars_and_every_table_follows(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    landing: str,
) -> None:
    project_id = await add_project(
        sessions, strategy="train", landing=landing, batch_size=2, train_depth=3, max_rejections=2
    )
    pair = frozenset({5, 6})  # each passes alone, not together: exactly one lands
    world = World.create(TEN, bad={4}, bad_pairs={pair}, conflict_pairs=set())
    await drive(resources(settings, engine, sessions), project_id, WorldPort(world, project_id))

    assert world.violations == []
    good = world.merged_iids()
    assert len(good) == 8
    assert all(world.mrs[iid].merges == 1 for iid in good)
    states = await queue_states(sessions)
    assert states == {iid: "merged" if iid in good else "rejected" for iid in TEN}
    merged = await history(sessions, "merged")
    assert Counter(iid for entry in merged for iid in entry.iids) == Counter(good)
    cars = await history(sessions, "train_car_started")
    assert len(cars) >= 4
    assert await history(sessions, "train_car_failed")  # the car holding the pair's second

    ops = await batches(sessions)
    assert all(op.finished_at is not None for op in ops)
    landed = [iid for op in ops if op.status == "landed" for iid in op.landed_iids]
    assert sorted(landed) == sorted(good)
    assert any(op.branch and op.branch.startswith("merge-assist/train/main/") for op in ops)
    async with sessions() as session:
        logged = (await session.execute(select(QueueLogEntry.message))).scalars().all()
        audited = Counter((await session.execute(select(AuditEntry.action))).scalars().all())
    assert any(line.startswith("train car started with") for line in logged)
    assert audited["merge_queue.merged"] == len(good)
    assert audited["merge_queue.train_car_started"] == len(cars)
