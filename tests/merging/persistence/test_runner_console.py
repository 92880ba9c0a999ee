"""The runner's process log read by the console (``kit.console``): its summary adds up."""

from __future__ import annotations

import io
import logging

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.console import ConsoleHandler
from merge_assist.kit.settings import Settings
from tests.merging.persistence.runner_support import (
    WorldPort,
    add_project,
    drive,
    resources,
)
from tests.merging.world import World

TEN = list(range(1, 11))


async def test_the_console_summary_counts_what_the_batch_queue_did(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="batch", batch_size=4, max_rejections=1)
    world = World.create(TEN, bad={4}, bad_pairs=set(), conflict_pairs=set())
    out = io.StringIO()
    handler = ConsoleHandler(out, live_summary=False)
    runner_log = logging.getLogger("merge_assist.merging.persistence.runner")
    runner_log.addHandler(handler)
    previous = runner_log.level
    runner_log.setLevel(logging.INFO)
    try:
        await drive(resources(settings, engine, sessions), project_id, WorldPort(world, project_id))
    finally:
        runner_log.removeHandler(handler)
        runner_log.setLevel(previous)

    merged = world.merged_iids()
    assert len(merged) == 9
    tally = handler.tally
    assert {iid for _, iid in tally.recognised} == set(TEN)
    assert {iid for _, iid in tally.merged} == merged
    assert {iid for _, iid in tally.rejected} == {4}
    assert tally.in_batch == set()  # every batch ended: nobody is left "in batch"
    lines = out.getvalue().splitlines()
    assert any(line.endswith("group/app  !4 rejected") for line in lines), lines[-5:]
    assert any("group/app" in line and "batch started with" in line for line in lines)
    assert not any(line.lstrip().startswith("{") for line in lines)  # no JSON
