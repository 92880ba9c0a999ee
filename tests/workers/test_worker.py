from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, publish_wake, wake_topic
from merge_assist.kit.web import AppResources
from merge_assist.projects.models import Project
from merge_assist.workers.models import ProjectLease, WorkerHeartbeat
from merge_assist.workers.runs import RunOutcome, StillOwner
from merge_assist.workers.worker import Worker
from tests.workers.conftest import T0, Clock, RecordingRun, eventually
from tests.workers.factories import make_project

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def workers(res: AppResources) -> AsyncIterator[Callable[..., Worker]]:
    """Builds workers on ``res``; whatever a test leaves running is stopped at the end."""
    built: list[Worker] = []

    def build(worker_id: str, run: RecordingRun, clock: Clock) -> Worker:
        worker = Worker(res, worker_id, run, clock=clock)
        built.append(worker)
        return worker

    yield build
    for worker in built:
        await worker.abandon()


async def lease_owners(sessions: Sessions) -> dict[int, str]:
    async with sessions() as session:
        rows = (await session.scalars(select(ProjectLease))).all()
    return {row.project_id: row.owner for row in rows}


async def test_worker_takes_and_runs_every_project_when_alone(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    first, second = await make_project(sessions), await make_project(sessions)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: {first.id, second.id} <= set(recording.calls))
    assert set(worker.owned) == {first.id, second.id}
    assert await lease_owners(sessions) == {first.id: "worker-a", second.id: "worker-a"}


async def test_a_wake_up_runs_the_project_and_processes_its_inbox(
    res: AppResources,
    sessions: Sessions,
    workers: Callable[..., Worker],
    recording: RecordingRun,
    clock: Clock,
) -> None:
    project = await make_project(sessions)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    async with sessions() as session, session.begin():
        session.add(
            InboxEvent(
                project_id=project.id,
                idempotency_key="k",
                event_kind="merge_request",
                received_at=clock(),  # the worker's clock, not the wall clock
            )
        )
    await publish_wake(bus_of(res), project.id, "webhook")
    await eventually(lambda: recording.count(project.id) == 2)
    async with sessions() as session:
        event = await session.scalar(select(InboxEvent))
    assert event is not None
    assert event.processed_at is not None


async def test_polling_interval_reconciles_without_any_wake_up(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    project = await make_project(sessions, polling_interval_seconds=60)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    clock.advance(30)
    await worker.tick()
    await asyncio.sleep(0.05)
    assert recording.count(project.id) == 1  # not due yet
    clock.advance(31)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 2)


async def test_next_check_at_comes_before_the_polling_interval(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    project = await make_project(sessions, polling_interval_seconds=3600)
    recording.next_check_in = 20
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    clock.advance(21)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 2)


async def test_one_failing_project_does_not_stop_the_others(
    res: AppResources,
    sessions: Sessions,
    workers: Callable[..., Worker],
    recording: RecordingRun,
    clock: Clock,
) -> None:
    broken, healthy = await make_project(sessions), await make_project(sessions)
    recording.failing.add(broken.id)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: {broken.id, healthy.id} <= set(recording.calls))
    for project in (broken, healthy):
        await publish_wake(bus_of(res), project.id, "webhook")
    await eventually(lambda: recording.count(broken.id) == 2 and recording.count(healthy.id) == 2)
    assert set(worker.owned) == {broken.id, healthy.id}


async def test_two_workers_share_the_projects(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    projects = [await make_project(sessions) for _ in range(4)]
    first = workers("worker-a", recording, clock)
    second = workers("worker-b", recording, clock)
    await first.tick()  # alone so far: takes everything
    assert len(first.owned) == 4
    await second.tick()  # everything is held
    assert second.owned == {}
    await eventually(lambda: len(recording.calls) >= 4)  # first runs end before hand-over
    await first.tick()  # two workers alive: gives back its surplus
    await second.tick()
    assert len(first.owned) == len(second.owned) == 2
    owners = await lease_owners(sessions)
    assert sorted(owners.values()) == ["worker-a", "worker-a", "worker-b", "worker-b"]
    assert set(owners) == {p.id for p in projects}
    assert set(first.owned).isdisjoint(second.owned)


async def test_a_killed_workers_projects_move_after_its_lease_expires(
    sessions: Sessions, workers: Callable[..., Worker], clock: Clock
) -> None:
    projects = [await make_project(sessions) for _ in range(2)]
    dying_run, taking_run = RecordingRun(clock), RecordingRun(clock)
    dying = workers("worker-dying", dying_run, clock)
    await dying.tick()
    await eventually(lambda: len(dying_run.calls) == 2)
    await dying.abandon()  # no release, no more heartbeats
    still_owner = dying_run.owners[projects[0].id]

    taking = workers("worker-taking", taking_run, clock)
    clock.advance(5)
    await taking.tick()
    assert taking.owned == {}  # the leases have not expired yet
    clock.advance(30)  # past the lease and three heartbeats
    await taking.tick()
    assert set(taking.owned) == {p.id for p in projects}
    await eventually(lambda: set(taking_run.calls) == {p.id for p in projects})
    assert set((await lease_owners(sessions)).values()) == {"worker-taking"}
    assert all(owned.lease.token == 2 for owned in taking.owned.values())
    assert not await still_owner()  # the old owner's runs are fenced off


async def test_graceful_stop_releases_leases_at_once(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    project = await make_project(sessions)
    leaving = workers("worker-leaving", recording, clock)
    await leaving.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    await leaving.stop()
    async with sessions() as session:
        beat = await session.get(WorkerHeartbeat, "worker-leaving")
    assert beat is not None
    assert beat.stopped_at == T0
    staying = workers("worker-staying", RecordingRun(clock), clock)
    await staying.tick()  # same instant: no waiting for the expiry
    assert set(staying.owned) == {project.id}


async def test_deactivated_projects_are_dropped(
    sessions: Sessions, workers: Callable[..., Worker], recording: RecordingRun, clock: Clock
) -> None:
    project = await make_project(sessions)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    async with sessions() as session, session.begin():
        await session.execute(update(Project).values(is_active=False))
    await worker.tick()
    assert worker.owned == {}
    async with sessions() as session:
        lease = await session.get(ProjectLease, project.id)
    assert lease is not None
    assert lease.expires_at < T0


async def test_run_loop_serves_until_stopped(
    res: AppResources, sessions: Sessions, recording: RecordingRun
) -> None:
    """The real loop with the real clock: it runs the project, then stops and releases."""
    project = await make_project(sessions)
    worker = Worker(res, "worker-loop", recording)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await eventually(lambda: recording.count(project.id) >= 1)
    await publish_wake(bus_of(res), project.id, "webhook")
    await eventually(lambda: recording.count(project.id) >= 2)
    stop.set()
    await asyncio.wait_for(task, 30)
    async with sessions() as session:
        lease = await session.get(ProjectLease, project.id)
        beat = await session.get(WorkerHeartbeat, "worker-loop")
    assert lease is not None
    assert beat is not None
    assert beat.stopped_at is not None
    assert lease.expires_at <= beat.stopped_at


async def test_a_run_that_lost_its_lease_drops_the_project_and_its_wake_listener(
    res: AppResources, sessions: Sessions, workers: Callable[..., Worker], clock: Clock
) -> None:
    """The new owner must get the wake-ups: the old one stops reading them at once."""
    project = await make_project(sessions)
    losing = LosingRun(clock)
    worker = workers("worker-losing", losing, clock)
    await worker.tick()
    owned = worker.owned[project.id]
    await eventually(lambda: losing.count(project.id) == 1)
    await eventually(lambda: all(task.done() for task in owned.tasks))
    assert worker.owned == {}
    async with sessions() as session:
        lease = await session.get(ProjectLease, project.id)
    assert lease is not None
    assert lease.expires_at > T0  # not released: it may be someone else's by now

    await publish_wake(bus_of(res), project.id, "webhook")
    async with bus_of(res).subscribe(wake_topic(project.id), WAKE_GROUP, "new-owner") as sub:
        delivery = await sub.next(1.0)
    assert delivery is not None  # still waiting in the group for the next owner


class LosingRun(RecordingRun):
    """A run that finds the lease gone (another worker took the project)."""

    async def __call__(
        self, res: AppResources, project_id: int, still_owner: StillOwner
    ) -> RunOutcome:
        await super().__call__(res, project_id, still_owner)
        return RunOutcome(steps=0, lost_lease=True)


async def test_a_burst_of_wake_ups_makes_one_run(
    res: AppResources, sessions: Sessions, workers: Callable[..., Worker], clock: Clock
) -> None:
    """Our own label changes come back as one webhook per MR: they cost one run, not one each."""
    project = await make_project(sessions)
    recording = RecordingRun(clock)
    worker = workers("worker-a", recording, clock)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    for _ in range(8):
        await publish_wake(bus_of(res), project.id, "webhook")
        await asyncio.sleep(0.02)
    await eventually(lambda: recording.count(project.id) == 2)
    await asyncio.sleep(1.0)  # longer than the settle time: no run follows for the burst
    assert recording.count(project.id) == 2


class ObservingRun(RecordingRun):
    """A run during which wake-ups arrive, then looks at GitLab once more before it ends."""

    def __init__(self, clock: Clock, res: AppResources, *, look_last: bool) -> None:
        super().__init__(clock)
        self.res = res
        self.look_last = look_last

    async def __call__(
        self, res: AppResources, project_id: int, still_owner: StillOwner
    ) -> RunOutcome:
        await super().__call__(res, project_id, still_owner)
        if self.count(project_id) == 2:  # the run woken by the test: its own webhooks arrive
            await publish_wake(bus_of(self.res), project_id, "webhook")
            await asyncio.sleep(0.2)
        looked = time.monotonic() if self.look_last else None
        return RunOutcome(steps=1, observed_at_monotonic=looked)


@pytest.mark.parametrize("look_last", [True, False])
async def test_wake_ups_the_run_already_saw_need_no_run(
    res: AppResources,
    sessions: Sessions,
    workers: Callable[..., Worker],
    clock: Clock,
    look_last: bool,
) -> None:
    project = await make_project(sessions)
    run = ObservingRun(clock, res, look_last=look_last)
    worker = workers("worker-a", run, clock)
    await worker.tick()
    await eventually(lambda: run.count(project.id) == 1)
    await publish_wake(bus_of(res), project.id, "webhook")
    await eventually(lambda: run.count(project.id) == 2)
    if look_last:
        await asyncio.sleep(1.5)
        assert run.count(project.id) == 2  # the wake-up came before the run's last look
    else:
        await eventually(lambda: run.count(project.id) == 3)  # unknown: run again
