from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.bus import InProcessBus, Subscription
from merge_assist.kit.bus.wake import WAKE_GROUP, wake_topic
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.projects.models import Project
from merge_assist.workers.models import WorkerHeartbeat
from merge_assist.workers.watcher import Watcher, due_for_reconcile
from tests.workers.conftest import T0, Clock
from tests.workers.factories import make_project

Sessions = async_sessionmaker[AsyncSession]


def watcher_on(
    settings: Settings, engine: AsyncEngine, sessions: Sessions, clock: Clock
) -> tuple[Watcher, InProcessBus]:
    bus = InProcessBus()
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    return Watcher(res, "watcher-test", clock=clock, bus=bus), bus


async def drain(subscription: Subscription) -> list[str]:
    reasons = []
    while (delivery := await subscription.next(0)) is not None:
        reasons.append(delivery.event.payload["reason"])
        await delivery.ack()
    return reasons


async def test_every_active_project_is_woken_at_start_then_per_its_interval(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    fast = await make_project(sessions, polling_interval_seconds=60, webhook_enabled=False)
    slow = await make_project(sessions, polling_interval_seconds=600)
    await make_project(sessions, active=False)
    clock = Clock()
    watcher, bus = watcher_on(settings, engine, sessions, clock)
    async with bus.subscribe(wake_topic(fast.id), WAKE_GROUP, "owner") as fast_wakes:
        assert await watcher.tick() == {fast.id: "reconcile", slow.id: "reconcile"}
        clock.advance(30)
        assert await watcher.tick() == {}
        clock.advance(30)
        assert await watcher.tick() == {fast.id: "reconcile"}
        assert await drain(fast_wakes) == ["reconcile", "reconcile"]
    async with sessions() as session:
        beat = await session.get(WorkerHeartbeat, "watcher-test")
    assert beat is not None
    assert beat.role == "watcher"


async def test_events_nobody_reconciled_wake_their_project_again(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    project = await make_project(sessions, polling_interval_seconds=3600)
    clock = Clock()
    watcher, _bus = watcher_on(settings, engine, sessions, clock)
    await watcher.tick()
    async with sessions() as session, session.begin():
        session.add(
            InboxEvent(
                project_id=project.id, idempotency_key="lost", event_kind="push", received_at=T0
            )
        )
    clock.advance(30)
    assert await watcher.tick() == {}  # the listener's wake-up may still be on its way
    clock.advance(31)
    assert await watcher.tick() == {project.id: "inbox"}
    clock.advance(10)
    assert await watcher.tick() == {}  # once per grace period, not every pass


async def test_old_inbox_rows_are_pruned(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    project = await make_project(sessions)
    old = T0 - timedelta(days=settings.inbox_retention_days, seconds=1)
    async with sessions() as session, session.begin():
        session.add_all(
            [
                InboxEvent(
                    project_id=project.id,
                    idempotency_key="old",
                    event_kind="push",
                    received_at=old,
                    processed_at=old,
                ),
                InboxEvent(
                    project_id=project.id,
                    idempotency_key="new",
                    event_kind="push",
                    received_at=T0,
                    processed_at=T0,
                ),
            ]
        )
    watcher, _bus = watcher_on(settings, engine, sessions, Clock())
    await watcher.tick()
    async with sessions() as session:
        keys = (await session.scalars(select(InboxEvent.idempotency_key))).all()
    assert keys == ["new"]


async def test_deactivated_projects_are_no_longer_woken(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    project = await make_project(sessions, polling_interval_seconds=60)
    clock = Clock()
    watcher, _bus = watcher_on(settings, engine, sessions, clock)
    assert await watcher.tick() == {project.id: "reconcile"}
    async with sessions() as session, session.begin():
        await session.execute(update(Project).values(is_active=False))
    clock.advance(120)
    assert await watcher.tick() == {}


@given(
    st.dictionaries(st.integers(1, 50), st.integers(10, 1000), max_size=10),
    st.integers(0, 2000),
)
def test_due_projects_are_exactly_those_past_their_interval(
    intervals: dict[int, int], elapsed: int
) -> None:
    last = dict.fromkeys(list(intervals)[::2], T0)
    now = T0 + timedelta(seconds=elapsed)
    due = set(due_for_reconcile(last, intervals, now))
    for project_id, seconds in intervals.items():
        expected = project_id not in last or elapsed >= seconds
        assert (project_id in due) == expected


async def test_a_slow_duty_never_delays_the_passes_and_never_runs_twice_at_once(
    settings: Settings, engine: AsyncEngine, sessions: Sessions
) -> None:
    release = asyncio.Event()
    started: list[datetime] = []

    async def slow_duty(_res: AppResources, now: datetime) -> None:
        started.append(now)
        await release.wait()

    async def failing_duty(_res: AppResources, _now: datetime) -> None:
        raise RuntimeError("this duty fails")

    clock = Clock()
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    watcher = Watcher(
        res, "watcher-duties", clock=clock, bus=InProcessBus(), duties=(slow_duty, failing_duty)
    )
    await watcher.tick()
    clock.advance(10)
    await asyncio.wait_for(watcher.tick(), 5)  # the slow duty's first run still waits
    await asyncio.sleep(0)
    assert started == [T0]
    release.set()
    await watcher.duties_settled()
    clock.advance(10)
    await watcher.tick()
    await watcher.duties_settled()
    assert started == [T0, T0 + timedelta(seconds=20)]
