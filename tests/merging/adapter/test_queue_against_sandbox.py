"""The whole merge queue with the database in the loop: an onboarded project, the worker's
``GitLabQueueRuntime`` (runner + GitLab port) and the sandbox over HTTP, on SQLite and
PostgreSQL.

Ten MRs (one only with the bot as reviewer), one breaking CI and a conflicting pair — under the
single, batch and train strategies, also with a worker killed mid-flight: every good
MR is merged, the bad ones rejected, ``main`` only moves to trees CI passed first, and what the
API shows (``merge_requests``, history, batches, audit) agrees with GitLab.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.audit.models import AuditEntry
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort, ProjectTarget
from merge_assist.merging.adapter.runtime import (
    RUNTIME,
    GitLabQueueRuntime,
    close_merge_queue,
    run_merge_queue,
)
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.port import QueuePort
from merge_assist.merging.persistence.models import (
    BatchOperation,
    MergeHistoryEntry,
    MergeRequestRecord,
)
from merge_assist.merging.persistence.runner import run_project
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.projects.models import Project
from tests.merging.adapter.driver import BOT, PROJECT, queue_scenario
from tests.merging.adapter.sandbox_queue import strict_green_main

BROKEN = 4
CONFLICTING = (7, 8)
REJECTED_LABEL = "Merge Assist: Rejected"
NOT_READY_LABEL = "Merge Assist: Not Ready for Merge"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(queue_scenario()) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for(BOT))
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=2,
        _env_file=None,  # type: ignore[call-arg]
    )


async def onboard(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, **config: object
) -> int:
    async with unit_of_work(sessions) as session:
        project = await projects.onboard(
            session,
            settings,
            gitlab_client_factory(settings),
            projects.Actor(id=None, name="test"),
            PROJECT,
            {"webhook_enabled": False, "max_rejections": 1, "batch_size": 5, **config},
        )
        return project.id


async def run_until_settled(
    res: AppResources,
    sandbox: RunningSandbox,
    project_id: int,
    *,
    rounds: int = 300,
    expected: int = 10,
) -> None:
    async def always() -> bool:
        return True

    try:
        for _ in range(rounds):
            # What a worker calls for a project it owns.
            await run_merge_queue(res, project_id, always)
            assert isinstance(res.find(RUNTIME), GitLabQueueRuntime)
            async with res.sessions() as session:
                rows = (
                    (
                        await session.execute(
                            select(MergeRequestRecord.queue_state).where(
                                MergeRequestRecord.project_id == project_id
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            settled = [state for state in rows if state in {"merged", "rejected", "removed"}]
            if len(settled) == len(rows) and len(rows) >= expected:
                return
            await asyncio.to_thread(sandbox.advance_clock, 30)
            await asyncio.sleep(0.05)
    finally:
        await close_merge_queue(res)
        assert res.find(RUNTIME) is None
    states = await _states(res, project_id)
    raise AssertionError(f"the queue did not settle: {Counter(rows)} {states}")


@pytest.mark.parametrize("strategy", ["single", "batch", "train"])
async def test_the_queue_lands_good_mrs_and_rejects_bad_ones_with_the_database(
    app: object,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    strategy: str,
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project_id = await onboard(sessions, settings, strategy=strategy)
    await run_until_settled(res, sandbox, project_id)

    async with sessions() as session:
        rows = {
            r.iid: r
            for r in (
                await session.execute(
                    select(MergeRequestRecord).where(MergeRequestRecord.project_id == project_id)
                )
            ).scalars()
        }
        history = (await session.execute(select(MergeHistoryEntry))).scalars().all()
        batches = (await session.execute(select(BatchOperation))).scalars().all()
        audit = (await session.execute(select(AuditEntry.action))).scalars().all()
    rejected = {iid for iid, row in rows.items() if row.queue_state == "rejected"}
    merged = {iid for iid, row in rows.items() if row.queue_state == "merged"}
    assert BROKEN in rejected
    assert len(rejected & set(CONFLICTING)) == 1
    assert merged == set(range(1, 11)) - rejected
    assert all(rows[iid].merged_at is not None for iid in merged)

    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        gitlab = {
            mr.iid: mr
            for mr in await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
        }
        notes = {iid: await root.mr_notes(PROJECT, iid) for iid in rejected}
    assert {iid for iid in range(1, 11) if gitlab[iid].state == "merged"} == merged
    assert all(BOT not in {u.username for u in gitlab[iid].assignees} for iid in rejected)
    for iid in rejected:
        assert REJECTED_LABEL in gitlab[iid].labels, gitlab[iid].labels
        assert NOT_READY_LABEL not in gitlab[iid].labels, gitlab[iid].labels
        rejections = [
            note
            for note in notes[iid]
            if note.author is not None
            and note.author.username == BOT
            and "rejected by the merge queue" in note.body
        ]
        assert len(rejections) == 1, [note.body for note in notes[iid]]

    landed = Counter(iid for entry in history if entry.event == "merged" for iid in entry.iids)
    assert set(landed) == merged
    assert max(landed.values()) == 1
    assert strict_green_main(sandbox) == []
    assert "merge_queue.merged" in audit
    assert "merge_queue.rejected" in audit
    if strategy in ("batch", "train"):  # a train's cars are batch operations too
        assert batches
        assert {b.status for b in batches if not b.probe} & {"landed"}
    else:
        assert not batches
    if strategy == "train":
        cars = [e for e in history if e.event == "train_car_started"]
        assert cars, [e.event for e in history]


class Killed(Exception):
    """The worker process died here (raised out of ``perform``)."""


class DyingPort:
    """A real ``GitLabQueuePort`` whose worker dies right after its ``die_after``-th action."""

    def __init__(self, port: Any, die_after: int) -> None:
        self.port, self.left = port, die_after

    async def observe(self, state: Any) -> Any:
        return await self.port.observe(state)

    async def perform(self, action: Any) -> Any:
        result = await self.port.perform(action)
        self.left -= 1
        if self.left == 0:
            raise Killed(action.kind)
        return result


@pytest.mark.parametrize(
    ("strategy", "die_after"),
    [("batch", 3), ("batch", 9), ("batch", 15), ("batch", 21), ("train", 9), ("train", 21)],
)
async def test_a_worker_killed_mid_batch_is_finished_by_the_next_one(
    app: object,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    strategy: str,
    die_after: int,
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project_id = await onboard(sessions, settings, strategy=strategy)
    first = GitLabQueueRuntime(res)
    client, git, bot = await first._connect()  # the first worker's own GitLab connection

    def dying_port(project: Project, branch: str, config: EngineConfig) -> QueuePort:
        target = ProjectTarget(id=project.gitlab_project_id, path=project.path_with_namespace)
        port = GitLabQueuePort(
            client,
            git,
            workdir=settings.data_dir / "queue",
            project=target,
            target_branch=branch,
            bot_username=bot,
            config=config,
        )
        return DyingPort(port, die_after)

    async def always() -> bool:
        return True

    killed = None
    try:
        for _ in range(100):
            await run_project(res, project_id, port_for=dying_port, still_owner=always)
            await asyncio.to_thread(sandbox.advance_clock, 30)
    except Killed as exc:
        killed = str(exc)
    finally:
        await first.close()
    assert killed is not None, "the first worker never reached its fatal action"
    # A second worker (a fresh runtime: new client, new caches) finishes the queue. (A worker
    # dying right after unassigning a rejected MR leaves no row for it: GitLab still shows the
    # rejection, see below.)
    await run_until_settled(res, sandbox, project_id, expected=9)
    async with sessions() as session:
        history = (await session.execute(select(MergeHistoryEntry))).scalars().all()
        rows = (await session.execute(select(MergeRequestRecord))).scalars().all()
    landed = Counter(iid for entry in history if entry.event == "merged" for iid in entry.iids)
    merged = {row.iid for row in rows if row.queue_state == "merged"}
    assert set(landed) == merged
    assert max(landed.values()) == 1
    assert len(merged) == 8
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        gitlab = {
            mr.iid: mr
            for mr in await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
        }
        leftovers = await root.list_branches(PROJECT, search="merge-assist/")
    assert {iid for iid in range(1, 11) if gitlab[iid].state == "merged"} == merged
    for iid in set(range(1, 11)) - merged:  # the CI breaker and one of the conflicting pair
        assert gitlab[iid].state == "opened"
        assert "Merge Assist: Rejected" in gitlab[iid].labels
        assert BOT not in {u.username for u in gitlab[iid].assignees}
    assert leftovers == []
    assert strict_green_main(sandbox) == []


async def test_unassigning_the_bot_mid_flight_removes_the_mr_cleanly(
    app: object,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project_id = await onboard(sessions, settings, strategy="single")
    sandbox.set_clock_speed(0)  # pipelines finish only when the test moves the clock

    async def always() -> bool:
        return True

    # Recognised and labelled, but single mode lands one at a time: MR 10 is still queued.
    await run_merge_queue(res, project_id, always)
    async with GitLabClient(
        sandbox.url, sandbox.token_for("alice"), retry=RetryPolicy(max_retries=0)
    ) as alice:
        await alice.update_merge_request(
            PROJECT, 10, MergeRequestChanges(assignee_ids=[], reviewer_ids=[])
        )
    try:
        await run_until_settled(res, sandbox, project_id)
    finally:
        await close_merge_queue(res)
    async with sessions() as session:
        row = (
            await session.execute(select(MergeRequestRecord).where(MergeRequestRecord.iid == 10))
        ).scalar_one()
    assert row.queue_state == "removed"
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        mr = await root.get_merge_request(PROJECT, 10)
    assert mr.state == "opened"
    assert not [label for label in mr.labels if label.startswith("Merge Assist")], mr.labels


async def _states(res: AppResources, project_id: int) -> dict[int, str]:
    async with res.sessions() as session:
        found = await session.execute(
            select(MergeRequestRecord.iid, MergeRequestRecord.queue_state).where(
                MergeRequestRecord.project_id == project_id
            )
        )
        return {int(iid): str(state) for iid, state in found.all()}
