"""The runner when things go wrong: killed workers, lost leases, GitLab errors, replays."""

from __future__ import annotations

import socket
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.gitlab.errors import GitLabError
from merge_assist.gitlab.git import GitCli
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import Observations
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence import records
from merge_assist.merging.persistence.models import (
    EngineStateRow,
    MergeHistoryEntry,
    MergeRequestRecord,
    QueueLogEntry,
)
from merge_assist.merging.persistence.runner import PENDING_RESULTS, RunOutcome, run_project
from merge_assist.merging.persistence.state_store import LostLease, load_state, store_state
from tests.merging.persistence.runner_support import (
    WorldPort,
    add_project,
    always,
    count,
    drive,
    history,
    queue_states,
    resources,
)
from tests.merging.world import START, World

LANDINGS = (act.PushTarget, act.MergeMR)


class WorkerKilled(Exception):
    """The worker process died in the middle of a step."""


async def _run(res: AppResources, project_id: int, port: WorldPort) -> RunOutcome:
    return await run_project(
        res, project_id, port_for=lambda *_: port, still_owner=always, clock=port.world.now
    )


async def _version(sessions: async_sessionmaker[AsyncSession]) -> int | None:
    async with sessions() as session:
        found = await session.execute(select(EngineStateRow.version))
        return found.scalar_one_or_none()


@pytest.mark.parametrize(
    ("strategy", "landing"), [("single", "merge_api"), ("batch", "push"), ("batch", "merge_api")]
)
async def test_a_killed_worker_is_resumed_by_a_fresh_run_without_merging_twice(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    strategy: str,
    landing: str,
) -> None:
    project_id = await add_project(
        sessions, strategy=strategy, landing=landing, batch_size=3, max_rejections=2
    )
    world = World.create(
        [1, 2, 3, 4, 5, 6, 7], bad={3}, bad_pairs={frozenset({5, 6})}, conflict_pairs=set()
    )
    killed: Counter[str] = Counter()

    async def before(action: act.Action, call: int) -> None:
        # Die before the clean-up that follows a landing (between the batch's land steps).
        if isinstance(action, act.CloseBatchMR | act.DeleteBranch) and not killed[action.key]:
            killed[action.key] += 1
            raise WorkerKilled(action.key)
        if call % 11 == 0:
            killed["before"] += 1
            raise WorkerKilled(f"call {call}")

    async def after(action: act.Action, call: int) -> None:
        # Die right after GitLab moved the target, before the new state was stored.
        if isinstance(action, LANDINGS) and not killed[action.key]:
            killed[action.key] += 1
            raise WorkerKilled(action.key)

    port = WorldPort(world, project_id, before=before, after=after)
    await drive(resources(settings, engine, sessions), project_id, port, crash=WorkerKilled)

    landings = [key for key in killed if key.startswith(("push:", "merge:"))]
    assert len(landings) >= 2  # every landing died once right after moving the target
    assert killed["before"] >= 2
    if strategy == "batch":
        assert any(key.startswith(("close-batch-mr:", "delete-branch:")) for key in killed)
    assert world.violations == []
    merged = world.merged_iids()
    assert 3 not in merged
    assert len(frozenset({5, 6}) & merged) == 1
    assert merged == {1, 2, 4, 7} | (frozenset({5, 6}) & merged)
    assert all(world.mrs[iid].merges == 1 for iid in merged)
    recorded = Counter(iid for entry in await history(sessions, "merged") for iid in entry.iids)
    assert set(recorded) <= merged
    assert all(times == 1 for times in recorded.values())
    # A landing whose new state was lost is seen afterwards as "merged outside the queue".
    elsewhere = {e.iids[0] for e in await history(sessions, "removed")}
    assert merged <= set(recorded) | elsewhere
    states = await queue_states(sessions)
    assert states == {iid: "merged" if iid in merged else "rejected" for iid in range(1, 8)}


async def test_a_first_store_over_another_workers_state_is_a_lost_lease(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    theirs = TargetQueueState.empty(project_id, "main").model_copy(update={"steps": 99})

    async def another_worker_stores(_action: act.Action, call: int) -> None:
        if call == 1:
            async with unit_of_work(sessions) as session:
                await store_state(session, theirs, 0)

    port = WorldPort(world, project_id, before=another_worker_stores)
    outcome = await _run(resources(settings, engine, sessions), project_id, port)

    assert outcome.lost_lease
    assert port.calls >= 1
    async with sessions() as session:
        stored = await load_state(session, project_id, "main")
    assert stored == type(stored)(theirs, 1)  # theirs, untouched
    assert await count(sessions, MergeHistoryEntry) == 0
    assert await count(sessions, MergeRequestRecord) == 0


async def test_a_store_over_a_newer_version_is_a_lost_lease_and_writes_nothing(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="single")
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    res = resources(settings, engine, sessions)
    first = await _run(res, project_id, WorldPort(world, project_id))
    assert not first.lost_lease
    before = await _version(sessions)
    assert before is not None
    recorded = await count(sessions, MergeHistoryEntry)
    logged = await count(sessions, QueueLogEntry)
    world.tick()  # pipelines finish: there is work to do

    async def another_worker_steps(_action: act.Action, call: int) -> None:
        if call == 1:
            async with unit_of_work(sessions) as session:
                await session.execute(update(EngineStateRow).values(version=before + 1))

    outcome = await _run(res, project_id, WorldPort(world, project_id, after=another_worker_steps))
    assert outcome.lost_lease
    assert await _version(sessions) == before + 1
    assert await count(sessions, MergeHistoryEntry) == recorded
    assert await count(sessions, QueueLogEntry) == logged


async def test_store_state_compares_and_swaps(sessions: async_sessionmaker[AsyncSession]) -> None:
    project_id = await add_project(sessions)
    state = TargetQueueState.empty(project_id, "main")
    async with unit_of_work(sessions) as session:
        assert await store_state(session, state, 0) == 1
    async with unit_of_work(sessions) as session:
        assert await store_state(session, state.model_copy(update={"steps": 1}), 1) == 2
    with pytest.raises(LostLease):
        async with unit_of_work(sessions) as session:
            await store_state(session, state, 1)
    with pytest.raises(LostLease):
        async with unit_of_work(sessions) as session:
            await store_state(session, state, 0)
    async with sessions() as session:
        stored = await load_state(session, project_id, "main")
    assert (stored.version, stored.state.steps) == (2, 1)


async def test_a_replayed_history_record_inserts_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await add_project(sessions)
    record = act.RecordHistory(event="merged", iids=(7,), record_key="merged:7:abc")
    async with unit_of_work(sessions) as session:
        first = await records.insert_history(session, project_id, "main", [record], START)
    async with unit_of_work(sessions) as session:
        again = await records.insert_history(session, project_id, "main", [record, record], START)
    assert [entry.record_key for entry in first] == [f"{project_id}:main:merged:7:abc"]
    assert again == []
    assert await count(sessions, MergeHistoryEntry) == 1


async def test_a_gitlab_error_stores_nothing_and_the_step_is_retried(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="single")
    world = World.create([1, 2, 3], bad=set(), bad_pairs=set(), conflict_pairs=set())
    failures: list[int] = []

    async def gitlab_down(action: act.Action, call: int) -> None:
        if call == 1:
            failures.append(call)
            raise GitLabError("GitLab answered 502 Bad Gateway", status=502)

    port = WorldPort(world, project_id, before=gitlab_down)
    res = resources(settings, engine, sessions)
    outcome = await _run(res, project_id, port)

    assert failures == [1]
    assert not outcome.lost_lease
    assert outcome.next_check_at == world.now() + timedelta(seconds=30)
    assert await _version(sessions) is None  # the failed step stored nothing
    assert await count(sessions, MergeHistoryEntry) == 0
    async with sessions() as session:
        warnings = (
            (await session.execute(select(QueueLogEntry).where(QueueLogEntry.level == "warning")))
            .scalars()
            .all()
        )
    assert len(warnings) == 1
    assert "502 Bad Gateway" in warnings[0].message

    await drive(res, project_id, port)  # the retry goes on from the stored state
    assert world.merged_iids() == {1, 2, 3}
    assert all(world.mrs[iid].merges == 1 for iid in (1, 2, 3))
    assert len(await history(sessions, "recognised")) == 3


async def test_a_failed_observation_backs_off_without_storing(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1], bad=set(), bad_pairs=set(), conflict_pairs=set())
    port = WorldPort(world, project_id, failing_observations=1)
    outcome = await _run(resources(settings, engine, sessions), project_id, port)
    assert (outcome.steps, outcome.lost_lease) == (0, False)
    assert outcome.next_check_at == world.now() + timedelta(seconds=30)
    assert port.calls == 0
    assert await _version(sessions) is None


async def test_results_of_a_failed_step_are_kept_for_its_retry(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="batch", batch_size=2)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    fail = {"run_pipeline"}

    async def batch_merge_fails_once(action: act.Action, _call: int) -> None:
        if action.kind in fail:  # after the batch MR was opened in the same step
            fail.clear()
            raise GitLabError("GitLab answered 500", status=500)

    port = WorldPort(world, project_id, before=batch_merge_fails_once)
    res = resources(settings, engine, sessions)
    for _ in range(10):
        outcome = await _run(res, project_id, port)
        assert not outcome.lost_lease
        if not fail:
            break
        world.tick()
    pending = res.service(PENDING_RESULTS)[(project_id, "main")]
    assert pending[0] == await _version(sessions)
    assert [result.kind for result in pending[1]] == ["batch_mr"]

    await drive(res, project_id, port)
    assert res.service(PENDING_RESULTS) == {}  # taken by the retry
    assert world.merged_iids() == {1, 2}


async def _refused_push(tmp_path: Path) -> None:
    """A real git push to a server that refuses the connection (the wrapper's error)."""
    git = GitCli(tmp_path / "git-home", token=GIT_TOKEN, time_limit=30)
    repo = await git.init(tmp_path / "repo")
    await repo.configure_identity("Merge Assist", "bot@example.com")
    await repo.commit("first", allow_empty=True)
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await repo.run("remote", "add", "origin", f"http://127.0.0.1:{port}/group/app.git")
    await repo.push("HEAD", branch="batch")


GIT_TOKEN = "glpat-never-in-the-log-0123456789"  # a test token


async def test_a_git_failure_is_logged_and_the_step_retried_with_its_results_kept(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    """A git command failing (network, auth, time-out) is a failed step like a GitLab error:
    the queue log says so, what was done before is kept, and the next run goes on."""
    project_id = await add_project(sessions, strategy="batch", batch_size=2)
    world = World.create([1, 2], bad=set(), bad_pairs=set(), conflict_pairs=set())
    fail = {"build_batch"}

    async def git_push_fails_once(action: act.Action, _call: int) -> None:
        if action.kind in fail:
            fail.clear()
            await _refused_push(tmp_path)

    port = WorldPort(world, project_id, before=git_push_fails_once)
    res = resources(settings, engine, sessions)
    for _ in range(10):
        outcome = await _run(res, project_id, port)
        assert not outcome.lost_lease
        if not fail:
            break
        world.tick()
    assert outcome.next_check_at == world.now() + timedelta(seconds=30)
    pending = res.service(PENDING_RESULTS)[(project_id, "main")]
    assert pending[1] == ()  # the build was the step's first action with a result
    async with sessions() as session:
        warnings = (
            (await session.execute(select(QueueLogEntry).where(QueueLogEntry.level == "warning")))
            .scalars()
            .all()
        )
    (warning,) = warnings
    assert "git push" in warning.message
    assert "failed" in warning.message
    assert GIT_TOKEN not in warning.message

    await drive(res, project_id, port)
    assert world.merged_iids() == {1, 2}


async def test_a_run_stops_after_max_steps_and_asks_to_come_back_at_once(
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
        max_steps=1,
        clock=world.now,
    )
    assert (outcome.steps, outcome.next_check_at, outcome.lost_lease) == (1, world.now(), False)
    assert await _version(sessions) == 1


async def test_a_refused_decision_is_logged_as_a_warning(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions)
    world = World.create([1], bad=set(), bad_pairs=set(), conflict_pairs=set())

    class WrongBranchPort(WorldPort):
        async def observe(self, state: TargetQueueState) -> Observations:
            seen = await super().observe(state)
            return seen.model_copy(update={"target_branch": "elsewhere"})

    port = WrongBranchPort(world, project_id)
    outcome = await _run(resources(settings, engine, sessions), project_id, port)
    assert outcome.steps == 1
    assert port.calls == 0
    async with sessions() as session:
        found = await session.execute(select(QueueLogEntry.level, QueueLogEntry.message))
        lines = found.all()
    assert [level for level, _ in lines] == ["warning"]
    assert "elsewhere" in lines[0][1]
