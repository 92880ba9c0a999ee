from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.engine import RUNNER_MODULE, run_merge_queue


async def _always() -> bool:
    return True


@pytest.mark.skipif(
    importlib.util.find_spec(RUNNER_MODULE) is not None, reason="the engine runner is installed"
)
async def test_without_the_runner_a_run_reports_nothing_to_do(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    outcome = await run_merge_queue(res, 1, _always)
    assert (outcome.next_check_at, outcome.steps, outcome.lost_lease) == (None, 0, False)
