"""The merge queue run by the real processes: ``Worker`` (leases, heartbeats, wake-ups) and
``Watcher`` (reconcile) with the database, against the sandbox over HTTP, on SQLite and
PostgreSQL. Five MRs, the fourth breaks CI (see ``queue_workers`` for the loop)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.health.webhooks import webhook_health
from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.bus import InProcessBus
from merge_assist.kit.bus.wake import bus_of
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.adapter.runtime import close_merge_queue
from merge_assist.merging.persistence.models import (
    BatchOperation,
    MergeHistoryEntry,
    MergeRequestRecord,
)
from merge_assist.projects import service as projects_service
from merge_assist.workers.models import ProjectLease
from merge_assist.workers.watcher import Watcher
from merge_assist.workers.worker import Worker
from tests.conftest import MakeAccount
from tests.merging.adapter.driver import BOT, PROJECT, queue_scenario
from tests.merging.adapter.queue_workers import (
    STEP,
    Clock,
    CountedRun,
    FreezingRun,
    bot_notes,
    drive,
    onboard,
    one_round,
    process,
    queue_states,
    until,
    worker_settings,
)
from tests.merging.adapter.sandbox_queue import strict_green_main, target_tips

COUNT = 5
BROKEN = 4
GOOD = frozenset(range(1, COUNT + 1)) - {BROKEN}
REJECTED_LABEL = "Merge Assist: Rejected"
NOT_READY_LABEL = "Merge Assist: Not Ready for Merge"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    scenario = queue_scenario(COUNT, broken=frozenset({BROKEN}), conflicting=None)
    scenario["clock_speed"] = 0  # the sandbox's time moves only with the rounds
    with run_sandbox(scenario) as running:
        yield running


@pytest.fixture
def listener_socket() -> Iterator[socket.socket]:
    """Where the product's HTTP server listens (only the webhook test serves on it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    listener_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for(BOT))
    port = listener_socket.getsockname()[1]
    return worker_settings(
        database_url, tmp_path / "data", sandbox, public_url=f"http://127.0.0.1:{port}"
    )


@pytest.fixture
async def listener(
    app: object, res: AppResources, listener_socket: socket.socket
) -> AsyncIterator[str]:
    """The app served by uvicorn on loopback (the sandbox posts its webhooks there)."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener_socket]))
    while not server.started:
        assert not serving.done(), "the listener did not start"
        await asyncio.sleep(0.01)
    yield res.settings.effective_public_url
    server.should_exit = True
    await serving


@pytest.fixture
async def res(app: object) -> AsyncIterator[AppResources]:
    """The app's resources with an in-process bus (the API, worker and watcher share it)."""
    resources: AppResources = app.state.resources  # type: ignore[attr-defined]
    bus = InProcessBus(idle_ms=50)
    resources.bus = bus
    yield resources
    await close_merge_queue(resources)
    await bus.close()


async def assert_landed_once_on_green_main(
    res: AppResources,
    sandbox: RunningSandbox,
    project_id: int,
    good: frozenset[int],
    removed: frozenset[int] = frozenset(),
) -> None:
    """``good`` merged once each (database, GitLab and ``main``), the rest (but ``removed``)
    rejected cleanly."""
    # GitLab marks MRs merged by a push (a batch landing) when the push's PostReceive runs, a
    # moment after it: the clock stands still between rounds, so move it past that.
    await asyncio.to_thread(sandbox.catch_up)
    states = await queue_states(res, project_id)
    assert {iid for iid, state in states.items() if state == "merged"} == good, states
    async with res.sessions() as session:
        history = (await session.execute(select(MergeHistoryEntry))).scalars().all()
    landed = Counter(iid for entry in history if entry.event == "merged" for iid in entry.iids)
    assert landed == Counter(dict.fromkeys(good, 1))
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        every = {
            mr.iid: mr
            for mr in await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
        }
        leftovers = await root.list_branches(PROJECT, search="merge-assist/")
    gitlab = {iid: mr for iid, mr in every.items() if iid <= COUNT}
    assert {iid for iid, mr in gitlab.items() if mr.state == "merged"} == good
    assert all(mr.state != "opened" for iid, mr in every.items() if iid > COUNT)  # batch MRs
    # main moved at most once per landed MR (a batch lands in one move), each time to a tree
    # CI had passed before.
    assert 1 <= len(target_tips(sandbox)) <= len(good)
    assert strict_green_main(sandbox) == []
    assert leftovers == []
    for iid in good:
        merged_notes = [body for body in await bot_notes(sandbox, iid) if "Merged into" in body]
        assert len(merged_notes) == 1, merged_notes
    for iid in set(gitlab) - good - removed:
        assert states[iid] == "rejected"
        assert gitlab[iid].state == "opened"
        assert REJECTED_LABEL in gitlab[iid].labels
        assert NOT_READY_LABEL not in gitlab[iid].labels
        assert BOT not in {u.username for u in gitlab[iid].assignees}
        rejections = [b for b in await bot_notes(sandbox, iid) if "rejected by the" in b]
        assert len(rejections) == 1, rejections


async def test_polling_alone_drives_the_queue_with_a_real_worker_and_the_watcher(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    # Batch: the breaker fails the batch pipeline and is found by bisection. (The single
    # strategy runs under the real worker in the priority test below.)
    project_id = await onboard(sessions, settings, strategy="batch")
    clock = Clock()
    run = CountedRun()
    worker = Worker(res, "worker-1", run, clock=clock)
    watcher = Watcher(res, "watcher-1", clock=clock)
    try:
        await drive(res, sandbox, clock, project_id, [worker], watcher, expected=COUNT)
    finally:
        await worker.stop()

    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)
    assert run.finished > 1
    assert run.lost_leases == 0
    async with sessions() as session:
        lease = (await session.execute(select(ProjectLease))).scalar_one()
        inbox = (await session.execute(select(InboxEvent))).scalars().all()
    assert (lease.owner, lease.token) == ("worker-1", 1)
    assert inbox == []  # no webhook: polling alone did it
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        assert await root.list_project_hooks(PROJECT) == []


async def test_a_raised_priority_lands_a_newer_mr_before_older_ones(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    client: httpx.AsyncClient,
    make_account: MakeAccount,
) -> None:
    manager = await make_account("pat", "priority_manager")
    viewer = await make_account("vera", "viewer")
    project_id = await onboard(sessions, settings, strategy="single")
    clock = Clock()
    worker = Worker(res, "worker-1", CountedRun(), clock=clock)
    watcher = Watcher(res, "watcher-1", clock=clock)
    try:
        # Every MR recognised, in line by age, waiting for its pipeline (the sandbox's CI
        # has not moved yet).
        await one_round([worker], watcher)
        assert set((await queue_states(res, project_id)).values()) == {"waiting"}
        async with sessions() as session:
            newest = (
                await session.execute(
                    select(MergeRequestRecord.id).where(MergeRequestRecord.iid == COUNT)
                )
            ).scalar_one()
        refused = await client.post(
            f"/api/mrs/{newest}/priority", json={"priority": 5}, headers=viewer
        )
        raised = await client.post(
            f"/api/mrs/{newest}/priority", json={"priority": 5}, headers=manager
        )
        # Every pipeline passes: all MRs are ready at once, the queue's order decides.
        await asyncio.to_thread(sandbox.advance_clock, 60)
        await drive(res, sandbox, clock, project_id, [worker], watcher, expected=COUNT)
    finally:
        await worker.stop()

    assert refused.status_code == 403, refused.text
    assert raised.status_code == 200, raised.text
    assert raised.json()["position"] == 1
    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)
    assert await merge_order(sandbox) == [COUNT, *sorted(GOOD - {COUNT})]


async def merge_order(sandbox: RunningSandbox) -> list[int]:
    """The merged MRs in the order they reached ``main`` (the target's recorded moves)."""
    tips = [row["sha"] for row in target_tips(sandbox)]
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        merged = await root.list_merge_requests(PROJECT, MergeRequestQuery(state="merged"))
    moves = {mr.merge_commit_sha: mr.iid for mr in merged}
    assert set(moves) <= set(tips), (moves, tips)
    return [moves[sha] for sha in tips if sha in moves]


@pytest.mark.parametrize(
    ("kind", "nth"),
    [
        ("build_batch", 1),  # building the first batch
        ("close_batch_mr", 1),  # cleaning up the failed batch, before bisecting
        ("merge_mr", 1),  # between landing a batch and telling its members
    ],
)
async def test_a_worker_killed_mid_batch_hands_its_lease_to_the_next_worker(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    kind: str,
    nth: int,
) -> None:
    project_id = await onboard(sessions, settings, strategy="batch")
    bus = bus_of(res)
    clock = Clock()
    watcher = Watcher(res, "watcher-1", clock=clock)
    # Worker A: its own process (runtime, git workdir); it freezes right after the action and
    # is killed there, before it could store the step.
    freezing = FreezingRun(process(res, bus), kind, nth)
    worker_a = Worker(freezing.res, "worker-a", freezing, clock=clock)
    try:
        await drive(
            res,
            sandbox,
            clock,
            project_id,
            [worker_a],
            watcher,
            expected=COUNT,
            stop=freezing.frozen.is_set,
        )
    finally:
        await worker_a.abandon()
        await freezing.runtime.close()
    assert freezing.frozen.is_set(), "worker A never reached its fatal action"
    async with sessions() as session:
        held = (await session.execute(select(ProjectLease))).scalar_one()
    assert (held.owner, held.token) == ("worker-a", 1)

    # Worker B takes the project once A's lease lapsed, and finishes the queue.
    res_b = process(res, bus)
    run_b = CountedRun()
    worker_b = Worker(res_b, "worker-b", run_b, clock=clock)
    try:
        await drive(res, sandbox, clock, project_id, [worker_b], watcher, expected=COUNT)
    finally:
        await worker_b.stop()
        await close_merge_queue(res_b)
    async with sessions() as session:
        lease = (await session.execute(select(ProjectLease))).scalar_one()
    assert (lease.owner, lease.token) == ("worker-b", 2)  # a new tenure, fencing worker A
    assert clock.now >= held.expires_at
    assert run_b.lost_leases == 0
    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)


@pytest.mark.parametrize(
    ("strategy", "leaving", "flight"),
    [
        ("single", 2, "merging"),  # rebased by the queue, its pipeline running
        ("batch", 2, "in_batch"),  # a member of the batch whose pipeline runs
    ],
)
async def test_unassigning_the_bot_while_an_mr_is_tested_removes_it_cleanly(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    strategy: str,
    leaving: int,
    flight: str,
) -> None:
    project_id = await onboard(sessions, settings, strategy=strategy)
    clock = Clock()
    worker = Worker(res, "worker-1", CountedRun(), clock=clock)
    watcher = Watcher(res, "watcher-1", clock=clock)
    try:
        for _ in range(10):
            await one_round([worker], watcher)
            if (await queue_states(res, project_id)).get(leaving) == flight:
                break
            clock.advance(STEP)
            await asyncio.to_thread(sandbox.advance_clock, STEP)
        assert (await queue_states(res, project_id))[leaving] == flight
        running = [p for p in sandbox.pipelines() if p["status"] in {"pending", "running"}]
        assert running, "no pipeline in flight"
        async with GitLabClient(
            sandbox.url, sandbox.token_for("alice"), retry=RetryPolicy(max_retries=0)
        ) as alice:
            await alice.update_merge_request(
                PROJECT, leaving, MergeRequestChanges(assignee_ids=[], reviewer_ids=[])
            )
        await drive(res, sandbox, clock, project_id, [worker], watcher, expected=COUNT)
    finally:
        await worker.stop()

    states = await queue_states(res, project_id)
    assert states[leaving] == "removed"
    await assert_landed_once_on_green_main(
        res, sandbox, project_id, GOOD - {leaving}, frozenset({leaving})
    )
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        mr = await root.get_merge_request(PROJECT, leaving)
    assert mr.state == "opened"
    assert not [label for label in mr.labels if label.startswith("Merge Assist")], mr.labels
    if strategy == "batch":  # the batch it was in never landed; a new one without it did
        async with sessions() as session:
            batches = (await session.execute(select(BatchOperation))).scalars().all()
        assert all(leaving not in b.landed_iids for b in batches)
        assert any(leaving in b.member_iids and b.status != "landed" for b in batches)
        assert any(b.status == "landed" and leaving not in b.member_iids for b in batches)


async def test_webhooks_duplicated_and_reordered_by_gitlab_give_the_same_outcome(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    listener: str,
) -> None:
    sandbox.faults(webhooks={"duplicate_rate": 0.5, "reorder_rate": 0.5})
    project_id = await onboard(sessions, settings, strategy="batch", webhook_enabled=True)
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        (hook,) = await root.list_project_hooks(PROJECT)
    assert hook.url == f"{listener}/webhook/gitlab"
    clock = Clock()
    worker = Worker(res, "worker-1", CountedRun(), clock=clock)
    watcher = Watcher(res, "watcher-1", clock=clock)
    try:
        await drive(res, sandbox, clock, project_id, [worker], watcher, expected=COUNT)
        # GitLab's last reactions ran (a moment after the last push), every webhook delivered.
        await asyncio.to_thread(sandbox.catch_up)
        await one_round([worker], watcher)  # and reconciled: nothing changes any more
    finally:
        await worker.stop()

    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)
    deliveries = sandbox.admin("GET", "hooks/deliveries")
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert {d["response_code"] for d in deliveries} <= {200, 202}
    assert any(d["duplicated"] for d in deliveries)
    assert any(d["reordered"] for d in deliveries)
    async with sessions() as session:
        inbox = (await session.execute(select(InboxEvent))).scalars().all()
    # Each event stored once (its copy answered "duplicate"), and every one reconciled.
    assert len(inbox) == len(deliveries) < sum(d["deliveries"] for d in deliveries)
    assert len({event.idempotency_key for event in inbox}) == len(inbox)
    assert all(event.processed_at is not None for event in inbox)
    assert {event.event_kind for event in inbox} >= {"merge_request", "pipeline", "note"}

    async with httpx.AsyncClient(base_url=listener) as http:
        body = {"object_kind": "merge_request", "project": {"id": hook.project_id}}
        forged = await http.post(
            "/webhook/gitlab", json=body, headers={"X-Gitlab-Token": "not-the-secret"}
        )
    assert forged.status_code == 401, forged.text


async def test_no_mr_is_lost_when_gitlab_cannot_deliver_and_disables_the_hook(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    """Issue 14, item 5: GitLab sends each event once and, after 4 failures in a row, sends
    nothing for a while (``web_hooks/auto_disabling.rb``). Nothing listens at the hook's URL
    here, so every event is lost: the watcher's reconcile alone lands the queue, and the
    hook, read back through GitLab's hooks API, tells the health page what happened."""
    project_id = await onboard(sessions, settings, strategy="batch", webhook_enabled=True)
    clock = Clock()
    worker = Worker(res, "worker-1", CountedRun(), clock=clock)
    watcher = Watcher(res, "watcher-1", clock=clock)
    try:
        await drive(res, sandbox, clock, project_id, [worker], watcher, expected=COUNT)
    finally:
        await worker.stop()

    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)
    await asyncio.to_thread(sandbox.wait_idle)
    statuses = Counter(d["status"] for d in sandbox.admin("GET", "hooks/deliveries"))
    assert set(statuses) <= {"failed", "disabled"}
    assert statuses["failed"] >= 4
    assert statuses["disabled"] > 0  # events GitLab did not even try to send
    async with GitLabClient(
        sandbox.url, sandbox.token_for(BOT), retry=RetryPolicy(max_retries=0)
    ) as bot:
        async with sessions() as session:
            project = await projects_service.get_project(session, project_id)
        [health] = await webhook_health(bot, [project])
    assert health.state in ("temporarily_disabled", "disabled")
    assert health.problem is not None
    assert "reconcile" in health.problem
    async with sessions() as session:
        inbox = (await session.execute(select(InboxEvent))).scalars().all()
    assert inbox == []  # nothing arrived: polling alone did it


async def test_a_paused_worker_that_lost_its_lease_acts_no_more_when_it_resumes(
    res: AppResources,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    project_id = await onboard(sessions, settings, strategy="batch")
    bus = bus_of(res)
    clock = Clock()
    watcher = Watcher(res, "watcher-1", clock=clock)
    # Worker A stalls in the middle of building a batch (a long pause: it makes no more
    # scheduling passes, its lease lapses) ...
    paused = FreezingRun(process(res, bus), "build_batch", 1)
    worker_a = Worker(paused.res, "worker-a", paused, clock=clock)
    worker_b = Worker(process(res, bus), "worker-b", CountedRun(), clock=clock)
    try:
        await drive(
            res,
            sandbox,
            clock,
            project_id,
            [worker_a],
            watcher,
            expected=COUNT,
            stop=paused.frozen.is_set,
        )
        # ... worker B takes the project over and finishes the queue ...
        await drive(res, sandbox, clock, project_id, [worker_b], watcher, expected=COUNT)
        # ... then A wakes up in the middle of its old step.
        (owned,) = worker_a.owned.values()
        assert owned.running
        paused.thawed.set()
        await until(lambda: not owned.running)
    finally:
        await worker_a.abandon()
        await paused.runtime.close()
        await worker_b.stop()
        await close_merge_queue(worker_b.res)
    assert paused.after_thaw == []  # fenced off: not one more GitLab action
    assert worker_a.owned == {}
    await assert_landed_once_on_green_main(res, sandbox, project_id, GOOD)
