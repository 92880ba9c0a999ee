"""The runner over a real database and the in-memory GitLab: queues land, rows follow."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry
from merge_assist.auth.models import User
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.hub import Connection
from merge_assist.kit.settings import Settings
from merge_assist.merging.engine.actions import AddLabels, RemoveLabels
from merge_assist.merging.engine.observations import Observations
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence.models import (
    EngineStateRow,
    MergeRequestRecord,
    QueueLogEntry,
)
from merge_assist.merging.persistence.runner import run_project, with_labels_applied
from merge_assist.merging.persistence.stored_config import engine_config
from merge_assist.messaging import service as messaging
from merge_assist.projects.config import default_config
from merge_assist.projects.models import Project
from tests.conftest import MakeAccount
from tests.merging.persistence.runner_support import (
    AUTHOR_BASE,
    WorldPort,
    add_project,
    always,
    batches,
    count,
    drive,
    history,
    queue_states,
    resources,
    rows,
)
from tests.merging.world import World

TEN = list(range(1, 11))


def test_the_project_config_becomes_the_engine_config() -> None:
    project = default_config("main").model_copy(
        update={
            "target_branches": ("main", "release"),
            "strategy": "batch",
            "batch_size": 7,
            "parallel_tests": 2,
            "pipeline_retries": 3,
            "max_rejections": 2,
            "landing": "push",
            "polling_interval_seconds": 20,
            "labels": {**default_config("main").labels, "rejected": "Nope"},
        }
    )
    config = engine_config(project)
    assert config.target_branches == ("main", "release")
    assert (config.strategy, config.batch_size, config.max_rejections) == ("batch", 7, 2)
    assert config.parallel_tests == 2
    assert engine_config(default_config("main")).parallel_tests == 4
    assert config.pipeline_retries == 3
    assert engine_config(default_config("main")).pipeline_retries == 1
    assert config.landing == "push"
    assert config.labels.rejected == "Nope"
    assert config.labels.recognized == default_config("main").labels["recognized"]
    assert (config.poll_seconds, config.busy_poll_seconds) == (20, 20)


@pytest.mark.parametrize(
    ("strategy", "landing"), [("single", "merge_api"), ("batch", "merge_api"), ("batch", "push")]
)
async def test_ten_merge_requests_land_and_every_table_follows(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    strategy: str,
    landing: str,
) -> None:
    project_id = await add_project(
        sessions, strategy=strategy, landing=landing, batch_size=4, max_rejections=2
    )
    pair = frozenset({5, 6})  # each passes alone, not together: exactly one lands
    world = World.create(TEN, bad={4}, bad_pairs={pair}, conflict_pairs=set())
    res = resources(settings, engine, sessions)
    await drive(res, project_id, WorldPort(world, project_id))

    assert world.violations == []
    good = world.merged_iids()
    assert len(good) == 8
    assert 4 not in good
    assert len(pair & good) == 1
    assert all(world.mrs[iid].merges == 1 for iid in good)
    states = await queue_states(sessions)
    assert states == {iid: "merged" if iid in good else "rejected" for iid in TEN}
    merged = await history(sessions, "merged")
    assert Counter(iid for entry in merged for iid in entry.iids) == Counter(good)
    rejected = sorted(e.iids[0] for e in await history(sessions, "rejected"))
    assert rejected == sorted(set(TEN) - good)
    assert len(await history(sessions, "struck")) == 4

    records = {row.iid: row for row in await rows(sessions, MergeRequestRecord)}
    assert records[4].strikes == 2
    assert records[4].rejected_at is not None
    assert records[4].reasons
    assert all(records[iid].merged_at is not None for iid in good)
    assert records[1].title == "Change 1"
    assert records[1].author_username == "author1"
    assert records[1].web_url
    assert records[1].source_branch == "feature/1"
    assert records[1].recognised_at is not None
    if strategy == "batch":
        ops = await batches(sessions)
        assert ops
        assert all(op.finished_at is not None for op in ops)
        landed = [iid for op in ops if op.status == "landed" for iid in op.landed_iids]
        assert sorted(landed) == sorted(good)
        assert {iid for op in ops for iid in op.culprit_iids} == pair - good
        assert {op.status for op in ops} == {"landed", "failed"}
        assert all(op.run_id is not None and op.member_iids for op in ops)
        assert all(records[iid].batch_id is not None for iid in good)
        assert all(op.tested_sha and op.pipeline_id for op in ops if op.status == "landed")
    else:
        assert await batches(sessions) == []
    async with sessions() as session:
        logged = (await session.execute(select(QueueLogEntry.message))).scalars().all()
        audited = Counter((await session.execute(select(AuditEntry.action))).scalars().all())
    assert any("merged into main" in line for line in logged)
    assert audited["merge_queue.merged"] == len(good)
    assert audited["merge_queue.rejected"] == 2
    assert audited["merge_queue.recognised"] >= len(records)  # again after a new push
    assert audited["merge_queue.struck"] >= 2
    if strategy == "batch":
        runs = {op.run_id for op in await batches(sessions)}  # a run's attempts share it
        assert audited["merge_queue.batch_started"] == len(runs)
        assert audited["merge_queue.culprit"] >= 1


async def test_priorities_from_the_database_change_the_order(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="single")
    async with unit_of_work(sessions) as session:
        session.add(
            MergeRequestRecord(
                project_id=project_id,
                iid=3,
                target_branch="main",
                queue_state="waiting",
                priority=5,
            )
        )
    world = World.create([1, 2, 3], bad=set(), bad_pairs=set(), conflict_pairs=set())
    res = resources(settings, engine, sessions)
    await drive(res, project_id, WorldPort(world, project_id))

    order = [entry.iids[0] for entry in await history(sessions, "merged")]
    assert order == [3, 1, 2]
    records = {row.iid: row for row in await rows(sessions, MergeRequestRecord)}
    assert records[3].priority == 5  # the runner never writes the API's column
    assert records[3].queue_state == "merged"


async def test_still_owner_false_performs_nothing_and_stores_nothing(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id)

    async def not_any_more() -> bool:
        return False

    outcome = await run_project(
        resources(settings, engine, sessions),
        project_id,
        port_for=lambda *_: port,
        still_owner=not_any_more,
        clock=world.now,
    )
    assert outcome.lost_lease
    assert port.performed == []
    assert await count(sessions, MergeRequestRecord) == 0
    assert await history(sessions, "recognised") == []


async def test_a_lease_lost_in_the_middle_of_a_step_stops_before_the_next_action(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1, 2, 3], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id)
    checks = 0

    async def until_the_first_action_is_done() -> bool:
        nonlocal checks
        checks += 1
        return not port.performed  # the worker was paused after it, its lease lapsed

    outcome = await run_project(
        resources(settings, engine, sessions),
        project_id,
        port_for=lambda *_: port,
        still_owner=until_the_first_action_is_done,
        clock=world.now,
    )
    assert outcome.lost_lease
    assert len(port.performed) == 1  # the step had more actions: none of them was performed
    assert await count(sessions, MergeRequestRecord) == 0  # and nothing was stored


async def test_an_inactive_project_is_not_run(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    async with unit_of_work(sessions) as session:
        await session.execute(update(Project).values(is_active=False))
    world = World.create([1], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id)
    outcome = await run_project(
        resources(settings, engine, sessions),
        project_id,
        port_for=lambda *_: port,
        still_owner=always,
    )
    assert (outcome.steps, outcome.lost_lease, port.observed) == (0, False, 0)


async def test_a_waiting_queue_says_when_to_look_again(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, polling_interval_seconds=120)
    world = World.create([1], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id)
    outcome = await run_project(
        resources(settings, engine, sessions),
        project_id,
        port_for=lambda *_: port,
        still_owner=always,
        clock=world.now,
    )
    assert not outcome.lost_lease
    assert outcome.steps >= 2
    assert outcome.next_check_at is not None
    assert outcome.next_check_at > world.now()


async def test_a_step_that_only_set_labels_is_not_followed_by_a_read(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id)
    outcome = await run_project(
        resources(settings, engine, sessions),
        project_id,
        port_for=lambda *_: port,
        still_owner=always,
        clock=world.now,
    )
    # The first step only labels the recognised MRs: the next one decides on what was read
    # (with those labels), then reads again.
    assert [a.kind for a in port.performed[:2]] == ["add_labels", "add_labels"]
    assert port.observed < outcome.steps
    assert outcome.observed_at_monotonic is not None


def test_labels_applied_are_what_gitlab_would_show() -> None:
    world = World.create([1], bad=set(), bad_pairs=set(), conflict_pairs=set())
    state = TargetQueueState.empty(1, "main")
    seen = world.observe(state, ())
    one = seen.merge_requests[0].model_copy(update={"labels": ("theirs", "old")})
    seen = seen.model_copy(update={"merge_requests": (one,)})
    after = with_labels_applied(
        seen,
        (
            AddLabels(iid=1, labels=("new", "theirs")),
            RemoveLabels(iid=1, labels=("old",)),
            AddLabels(iid=9, labels=("gone",)),
        ),
    )
    assert after.merge_requests[0].labels == ("theirs", "new")
    assert after.merge_requests[0].model_copy(update={"labels": one.labels}) == one


async def test_live_events_and_author_notices_follow_the_commit(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    make_account: MakeAccount,
) -> None:
    await make_account("watcher", "viewer")
    await make_account("author1", "viewer")
    await make_account("boss", "admin")
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(User).where(User.username == "author1").values(gitlab_user_id=AUTHOR_BASE + 1)
        )
        watcher = (
            await session.execute(select(User).where(User.username == "watcher"))
        ).scalar_one()
        author = (
            await session.execute(select(User).where(User.username == "author1"))
        ).scalar_one()
        boss = (await session.execute(select(User).where(User.username == "boss"))).scalar_one()
    project_id = await add_project(sessions, strategy="batch", batch_size=2)
    res = resources(settings, engine, sessions)
    connection = hub_of(res).connect(watcher.id)
    manager = hub_of(res).connect(boss.id)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    await drive(res, project_id, WorldPort(world, project_id))

    def heard(socket: Connection) -> Counter[str]:
        kinds: Counter[str] = Counter()
        while not socket.queue.empty():
            text = socket.queue.get_nowait()
            assert text is not None
            assert f'"project_id": {project_id}' in text
            kinds[text.split('"', 4)[3]] += 1
        return kinds

    kinds = heard(connection)
    assert kinds["mr.updated"] >= 4
    assert kinds["batch.updated"] >= 2
    # A viewer sees the queue but may not read its log (GET /api/logs needs can_manage).
    assert kinds["log.appended"] == 0
    assert heard(manager)["log.appended"] > 5
    async with sessions() as session:
        page = await messaging.inbox(session, author.id)
    assert [view.message.subject for view in page.items] == ["Merged: !1 Change 1"]
    assert page.items[0].message.related_mr == "group/app!1"


class ReleasePort(WorldPort):
    """The in-memory GitLab, seen as the ``release`` branch's queue."""

    async def observe(self, state: TargetQueueState) -> Observations:
        renamed = state.model_copy(update={"target_branch": "main"})
        seen = await super().observe(renamed)
        snapshots = tuple(
            s.model_copy(update={"target_branch": "release"}) for s in seen.merge_requests
        )
        return seen.model_copy(update={"target_branch": "release", "merge_requests": snapshots})


async def test_every_configured_target_branch_has_its_own_queue(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, target_branches=("main", "release"))
    main = WorldPort(World.create([1, 2], set(), set(), set()), project_id)
    release = ReleasePort(World.create([101, 102], set(), set(), set()), project_id)
    ports = {"main": main, "release": release}
    res = resources(settings, engine, sessions)
    for _ in range(60):
        outcome = await run_project(
            res,
            project_id,
            port_for=lambda _project, branch, _config: ports[branch],
            still_owner=always,
            clock=main.world.now,
        )
        assert not outcome.lost_lease
        if main.world.merged_iids() == {1, 2} and release.world.merged_iids() == {101, 102}:
            break
        main.world.tick()
        release.world.tick()
    records = {
        row.iid: (row.target_branch, row.queue_state)
        for row in await rows(sessions, MergeRequestRecord)
    }
    assert records == {
        1: ("main", "merged"),
        2: ("main", "merged"),
        101: ("release", "merged"),
        102: ("release", "merged"),
    }
    async with sessions() as session:
        branches = (await session.execute(select(EngineStateRow.target_branch))).scalars().all()
    assert sorted(branches) == ["main", "release"]
