"""A worker's resources, a clock the test moves, and a project run that records its calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.bus import InProcessBus
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.runs import RunOutcome, StillOwner

WAIT = 10.0  # upper bound for something that must happen; never asserted on
T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


class Clock:
    """The time as the worker sees it; tests move it forward."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingRun:
    """A ``ProjectRun`` that records which projects ran; it can fail or ask to come back."""

    clock: Clock
    calls: list[int] = field(default_factory=list)
    owners: dict[int, StillOwner] = field(default_factory=dict)
    failing: set[int] = field(default_factory=set)
    next_check_in: float | None = None

    async def __call__(
        self, res: AppResources, project_id: int, still_owner: StillOwner
    ) -> RunOutcome:
        self.calls.append(project_id)
        self.owners[project_id] = still_owner
        if project_id in self.failing:
            raise RuntimeError("this project's run fails")
        if self.next_check_in is None:
            return RunOutcome(steps=1)
        return RunOutcome(
            next_check_at=self.clock() + timedelta(seconds=self.next_check_in), steps=1
        )

    def count(self, project_id: int) -> int:
        return self.calls.count(project_id)


async def eventually(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait until ``condition`` holds (fails after ``WAIT`` seconds)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the condition did not hold in time: {condition}")
        await asyncio.sleep(0.01)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def recording(clock: Clock) -> RecordingRun:
    return RecordingRun(clock)


@pytest.fixture
async def res(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AppResources]:
    bus = InProcessBus(idle_ms=200)
    yield AppResources(settings=settings, engine=engine, sessions=sessions, bus=bus)
    await bus.close()
