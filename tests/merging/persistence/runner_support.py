"""The in-memory GitLab of ``world.py`` as a ``QueuePort``, and helpers to drive the runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.assistant.rejection import rejection_advice
from merge_assist.gitlab.errors import GitLabError
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.engine.actions import Action
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import ActionResult, Observations
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence.advice import REJECTION_ADVICE
from merge_assist.merging.persistence.models import (
    BatchOperation,
    EngineStateRow,
    MergeHistoryEntry,
    MergeRequestRecord,
)
from merge_assist.merging.persistence.runner import VAULT_LOCKS, RunOutcome, run_project
from merge_assist.projects.config import default_config
from merge_assist.projects.models import Project, ProjectConfigRow
from merge_assist.server.app import vault_gate_locks
from tests.merging.world import TARGET, World

Hook = Callable[[Action, int], Awaitable[None]]
AUTHOR_BASE = 5000  # GitLab user id of the author of MR n: AUTHOR_BASE + n
GITLAB_PROJECT_ID = 4242  # GitLab's id of the project; ours differs, as it does in real life


@dataclass
class WorldPort:
    """``QueuePort`` over the in-memory GitLab. ``before``/``after`` run around each perform
    (with the call number) and may raise: a GitLab error, or a crash of the worker."""

    world: World
    project_id: int  # ours, for the tests; observe() reports GitLab's id like the real port
    before: Hook | None = None
    after: Hook | None = None
    calls: int = 0
    observed: int = 0
    failing_observations: int = 0  # this many next observations fail with a GitLab error
    performed: list[Action] = field(default_factory=list)

    async def observe(self, state: TargetQueueState) -> Observations:
        self.observed += 1
        if self.failing_observations > 0:
            self.failing_observations -= 1
            raise GitLabError("GitLab answered 503 Service Unavailable", status=503)
        seen = self.world.observe(state, ())
        snapshots = tuple(
            snapshot.model_copy(
                update={
                    "priority": 0,  # the port knows no priorities: the runner adds them
                    "author_id": AUTHOR_BASE + snapshot.iid,
                    "title": f"Change {snapshot.iid}",
                    "web_url": f"https://gitlab.example/group/app/-/merge_requests/{snapshot.iid}",
                }
            )
            for snapshot in seen.merge_requests
        )
        # Like the real port: GitLab knows the project by its own id; the runner adds ours.
        return seen.model_copy(
            update={"project_id": GITLAB_PROJECT_ID, "merge_requests": snapshots}
        )

    async def perform(self, action: Action) -> ActionResult | None:
        self.calls += 1
        if self.before is not None:
            await self.before(action, self.calls)
        results = self.world.apply((action,))
        self.performed.append(action)
        if self.after is not None:
            await self.after(action, self.calls)
        return results[0] if results else None


def resources(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AppResources:
    res = AppResources(settings=settings, engine=engine, sessions=sessions)
    res.provide(VAULT_LOCKS, vault_gate_locks)
    res.provide(REJECTION_ADVICE, rejection_advice(res))
    return res


async def add_project(sessions: async_sessionmaker[AsyncSession], **config: Any) -> int:
    """A project onboarded on ``main`` with ``config`` (ProjectConfig fields)."""
    values = default_config(TARGET).model_copy(update=config)
    async with unit_of_work(sessions) as session:
        project = Project(
            gitlab_project_id=GITLAB_PROJECT_ID,
            path_with_namespace="group/app",
            name="app",
            default_branch=TARGET,
        )
        session.add(project)
        await session.flush()
        session.add(
            ProjectConfigRow(
                project_id=project.id,
                target_branches=list(values.target_branches),
                strategy=values.strategy,
                batch_size=values.batch_size,
                train_depth=values.train_depth,
                parallel_tests=values.parallel_tests,
                pipeline_retries=values.pipeline_retries,
                polling_interval_seconds=values.polling_interval_seconds,
                labels=values.labels,
                webhook_enabled=values.webhook_enabled,
                max_rejections=values.max_rejections,
                landing=values.landing,
                ai_debug_enabled=False,
            )
        )
        return project.id


async def always() -> bool:
    return True


async def drive(
    res: AppResources,
    project_id: int,
    port: WorldPort,
    *,
    rounds: int = 400,
    crash: type[BaseException] | None = None,
) -> list[RunOutcome]:
    """Run the project, letting time pass when it waits, until the world is quiet and the
    queue is empty. A ``crash`` raised from the port kills the run: a fresh one resumes."""

    def port_for(_project: Project, branch: str, _config: EngineConfig) -> WorldPort:
        assert branch == TARGET
        return port

    outcomes = []
    for _ in range(rounds):
        try:
            outcome = await run_project(
                res, project_id, port_for=port_for, still_owner=always, clock=port.world.now
            )
        except Exception as error:
            if crash is None or not isinstance(error, crash):
                raise
            continue  # the worker died; a new one starts from the stored state
        outcomes.append(outcome)
        assert not outcome.lost_lease
        if not port.world.busy() and await queue_is_empty(res, project_id):
            return outcomes
        port.world.tick()
    raise AssertionError(f"the queue did not empty in {rounds} rounds")


async def queue_is_empty(res: AppResources, project_id: int) -> bool:
    async with res.sessions() as session:
        found = await session.execute(
            select(EngineStateRow.state_json).where(EngineStateRow.project_id == project_id)
        )
        states = [TargetQueueState.from_json(text) for text in found.scalars()]
    return bool(states) and all(
        not s.merge_requests and not s.attempts and s.batch_run is None for s in states
    )


async def rows(
    sessions: async_sessionmaker[AsyncSession], model: type[Any], *order: Any
) -> list[Any]:
    async with sessions() as session:
        found = await session.execute(select(model).order_by(*(order or (model.id,))))
        return list(found.scalars())


async def count(sessions: async_sessionmaker[AsyncSession], model: type[Any]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def queue_states(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    found = await rows(sessions, MergeRequestRecord)
    return {row.iid: row.queue_state for row in found}


async def history(
    sessions: async_sessionmaker[AsyncSession], event: str
) -> list[MergeHistoryEntry]:
    found = await rows(sessions, MergeHistoryEntry)
    return [entry for entry in found if entry.event == event]


async def batches(sessions: async_sessionmaker[AsyncSession]) -> list[BatchOperation]:
    return await rows(sessions, BatchOperation)
