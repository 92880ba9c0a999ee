"""Real workers (``workers.worker.Worker``, leases) and the watcher driving the merge queue
against the sandbox: settings, the counted production run, a worker that freezes after a given
action, and a loop that moves both clocks until the queue settles.

The worker's and the watcher's clock is a ``Clock`` the test moves (by ``STEP`` seconds a
round, together with the sandbox's clock); each round is one scheduling pass of every worker
and the watcher, then a wait (real time, bounded) until the woken runs are done.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.bus import EventBus
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort, ProjectTarget
from merge_assist.merging.adapter.runtime import GitLabQueueRuntime, run_merge_queue
from merge_assist.merging.engine.actions import Action
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.port import QueuePort
from merge_assist.merging.persistence.advice import REJECTION_ADVICE
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.merging.persistence.runner import VAULT_LOCKS, run_project
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.projects.models import Project
from merge_assist.workers.runs import ProjectRunOutcome, StillOwner
from merge_assist.workers.watcher import Watcher
from merge_assist.workers.worker import Worker
from tests.merging.adapter.driver import BOT, PROJECT

STEP = 60  # seconds both clocks move per round (CI takes 20-40 s: one round)
POLLING = 30
LEASE_SECONDS = 90
HANG_LIMIT = 120.0  # real seconds a round may take before the test fails (never reached)
SETTLED = frozenset({"merged", "rejected", "removed"})


def worker_settings(
    database_url: str, data_dir: Path, sandbox: RunningSandbox, **extra: Any
) -> Settings:
    """Settings of a worker process against ``sandbox`` with short leases and heartbeats."""
    return Settings(
        environment=Environment.test,
        data_dir=data_dir,
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=2,
        lease_seconds=LEASE_SECONDS,
        lease_renew_seconds=10,
        heartbeat_seconds=10,
        _env_file=None,  # type: ignore[call-arg]
        **extra,
    )


class Clock:
    """The workers' and the watcher's time, moved by the test (starts at the real time)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def process(res: AppResources, bus: EventBus) -> AppResources:
    """The resources of another process on the same database and bus (its own hub, services)."""
    other = AppResources(settings=res.settings, engine=res.engine, sessions=res.sessions, bus=bus)
    other.provide(VAULT_LOCKS, res.service(VAULT_LOCKS))
    other.provide(REJECTION_ADVICE, res.service(REJECTION_ADVICE))
    return other


async def onboard(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, **config: object
) -> int:
    """Onboard ``PROJECT`` (webhooks off unless asked) polled every ``POLLING`` seconds."""
    values = {
        "webhook_enabled": False,
        "max_rejections": 1,
        "batch_size": 5,
        "polling_interval_seconds": POLLING,
        **config,
    }
    async with unit_of_work(sessions) as session:
        project = await projects.onboard(
            session,
            settings,
            gitlab_client_factory(settings),
            projects.Actor(id=None, name="test"),
            PROJECT,
            values,
        )
        return project.id


@dataclass
class CountedRun:
    """The production ``ProjectRun`` (``run_merge_queue``), counting runs and lost leases."""

    finished: int = 0
    lost_leases: int = 0

    async def __call__(
        self, res: AppResources, project_id: int, still_owner: StillOwner
    ) -> ProjectRunOutcome:
        try:
            outcome = await run_merge_queue(res, project_id, still_owner)
        finally:
            self.finished += 1
        self.lost_leases += bool(outcome.lost_lease)
        return outcome


class FreezingPort:
    """A real port whose process freezes right after its ``nth`` action of ``kind`` (until
    ``thawed`` is set, or for good); it records the actions performed after thawing."""

    def __init__(self, port: QueuePort, run: FreezingRun) -> None:
        self.port, self.run, self.left = port, run, run.nth

    async def observe(self, state: Any) -> Any:
        return await self.port.observe(state)

    async def perform(self, action: Action) -> Any:
        if self.run.thawed.is_set():
            self.run.after_thaw.append(action)
        result = await self.port.perform(action)
        if action.kind == self.run.kind:
            self.left -= 1
            if self.left == 0:
                self.run.frozen.set()
                await self.run.thawed.wait()
        return result


@dataclass
class FreezingRun:
    """Worker A's ``ProjectRun``: the production runtime's ports, frozen at one action."""

    res: AppResources
    kind: str
    nth: int
    frozen: asyncio.Event = field(default_factory=asyncio.Event)
    thawed: asyncio.Event = field(default_factory=asyncio.Event)
    after_thaw: list[Action] = field(default_factory=list)
    ports: dict[tuple[int, str], QueuePort] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.runtime = GitLabQueueRuntime(self.res)

    async def __call__(
        self, res: AppResources, project_id: int, still_owner: StillOwner
    ) -> ProjectRunOutcome:
        client, git, bot = await self.runtime._connect()

        def port_for(project: Project, branch: str, config: EngineConfig) -> QueuePort:
            key = (project.id, branch)
            if key not in self.ports:
                target = ProjectTarget(
                    id=project.gitlab_project_id, path=project.path_with_namespace
                )
                port = GitLabQueuePort(
                    client,
                    git,
                    workdir=res.settings.data_dir / "queue-a",
                    project=target,
                    target_branch=branch,
                    bot_username=bot,
                    config=config,
                )
                self.ports[key] = FreezingPort(port, self)
            return self.ports[key]

        return await run_project(res, project_id, port_for=port_for, still_owner=still_owner)


async def queue_states(res: AppResources, project_id: int) -> dict[int, str]:
    async with res.sessions() as session:
        found = await session.execute(
            select(MergeRequestRecord.iid, MergeRequestRecord.queue_state).where(
                MergeRequestRecord.project_id == project_id
            )
        )
        return {int(iid): str(state) for iid, state in found.all()}


async def settled(res: AppResources, project_id: int, expected: int) -> bool:
    states = await queue_states(res, project_id)
    return len(states) >= expected and set(states.values()) <= SETTLED


def quiet(workers: list[Worker]) -> bool:
    """No owned project of these workers is woken or running."""
    return all(
        not owned.wake.is_set() and not owned.running
        for worker in workers
        for owned in list(worker.owned.values())
    )


async def until(condition: Callable[[], bool]) -> None:
    """Wait (real time, bounded) until ``condition()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_LIMIT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"the condition did not hold in time: {condition}")
        await asyncio.sleep(0.02)


async def one_round(
    workers: list[Worker], watcher: Watcher | None, stop: Callable[[], bool] = lambda: False
) -> None:
    """One scheduling pass of every worker and the watcher; wait until their runs are done."""
    for worker in workers:
        await worker.tick()
    if watcher is not None:
        await watcher.tick()
    await asyncio.sleep(0.01)  # the watcher's wake-ups reach the owner's subscription
    await until(lambda: stop() or quiet(workers))


async def drive(
    res: AppResources,
    sandbox: RunningSandbox,
    clock: Clock,
    project_id: int,
    workers: list[Worker],
    watcher: Watcher | None,
    *,
    expected: int,
    rounds: int = 200,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Make rounds until the queue settled (or ``stop()``); returns the rounds made."""
    for count in range(1, rounds + 1):
        await one_round(workers, watcher, stop)
        if stop() or await settled(res, project_id, expected):
            return count
        clock.advance(STEP)
        await asyncio.to_thread(sandbox.advance_clock, STEP)
    states = await queue_states(res, project_id)
    raise AssertionError(f"the queue did not settle: {Counter(states.values())} {states}")


async def bot_notes(sandbox: RunningSandbox, iid: int) -> list[str]:
    """The bodies of the bot's comments on MR ``iid``."""
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        notes = await root.mr_notes(PROJECT, iid)
    return [n.body for n in notes if n.author is not None and n.author.username == BOT]
