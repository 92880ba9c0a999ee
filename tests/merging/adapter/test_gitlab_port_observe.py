"""``GitLabQueuePort.observe`` against the sandbox: who is recognised, what a snapshot holds,
which pipelines are read, and how many GitLab calls a step costs."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import GitLabNotFound, GitLabUnavailable
from merge_assist.gitlab.models import CommitAction
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter import observe
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.state import Attempt, AttemptMember, TargetQueueState
from tests.merging.adapter.driver import PROJECT, TARGET, queue_scenario
from tests.merging.adapter.sandbox_queue import open_port

CONFIG = EngineConfig()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    data = queue_scenario(5, broken=frozenset({4}), conflicting=None, unassigned=frozenset({3}))
    with run_sandbox(data) as running:
        running.wait_for_pipelines()
        yield running


@pytest.fixture
async def port(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[GitLabQueuePort]:
    async with open_port(sandbox, tmp_path, CONFIG) as opened:
        yield opened


@pytest.fixture
async def root(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as client:
        yield client


def empty(port: GitLabQueuePort) -> TargetQueueState:
    return TargetQueueState.empty(port.project.id, TARGET)


async def test_assignee_or_reviewer_is_recognised(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    first = await port.observe(empty(port))  # its listings ask GitLab to check the MRs
    assert {mr.detailed_merge_status for mr in first.merge_requests} <= {
        "preparing", "unchecked", "checking", "mergeable", "ci_must_pass"
    }  # fmt: skip
    await asyncio.to_thread(sandbox.catch_up, 3)  # GitLab's checks are done
    observations = await port.observe(empty(port))
    by_iid = {mr.iid: mr for mr in observations.merge_requests}
    assert set(by_iid) == {1, 2, 4, 5}  # !3 has the bot neither as assignee nor reviewer
    assert (by_iid[1].bot_is_assignee, by_iid[1].bot_is_reviewer) == (True, False)
    assert (by_iid[2].bot_is_assignee, by_iid[2].bot_is_reviewer) == (False, True)
    assert by_iid[2].recognised
    main = await root.get_branch(PROJECT, TARGET)
    assert main.commit is not None
    assert observations.target_sha == main.commit.id
    one = by_iid[1]
    assert one.base_sha == main.commit.id
    assert one.files_changed == ("src/mr1.txt",)
    assert one.approvals_left is None  # read from detailed_merge_status, not the approvals API
    assert one.detailed_merge_status == "mergeable"
    assert one.author == "alice"
    assert one.author_id is not None
    assert one.source_branch == "topic-1"
    assert one.head_pipeline is not None
    assert (one.head_pipeline.sha, one.head_pipeline.status) == (one.head_sha, "success")
    assert by_iid[4].head_pipeline is not None
    assert by_iid[4].head_pipeline.status == "failed"  # the CI fail marker


async def test_mentioned_mrs_are_read_whatever_their_state(port: GitLabQueuePort) -> None:
    state = empty(port).model_copy(update={"rejected": (3, 404)})
    by_iid = {mr.iid: mr for mr in (await port.observe(state)).merge_requests}
    assert by_iid[3].state == "opened"
    assert not by_iid[3].recognised
    assert by_iid[404].state == "closed"  # not on GitLab: reported as closed
    before = Counter(port.client.calls)
    await port.observe(state)
    spent = Counter(port.client.calls) - before
    assert spent["mr.list"] == 3  # the two listings, then one by iids for !3 and !404
    assert spent["mr.get"] == 0


async def test_pipelines_of_tested_shas_are_read_by_sha(
    port: GitLabQueuePort, root: GitLabClient
) -> None:
    head = (await root.get_merge_request(PROJECT, 5)).sha or ""
    attempt = Attempt(
        id=1,
        kind="batch",
        members=(AttemptMember(iid=5, source_sha=head),),
        base_sha="0" * 40,
        status="testing",
        started_at=datetime.now(UTC),
        tested_sha=head,
    )
    state = empty(port).model_copy(update={"attempts": (attempt,)})
    observations = await port.observe(state)
    assert {p.sha for p in observations.pipelines} == {head}
    assert all(p.status == "success" for p in observations.pipelines)


async def test_a_step_costs_few_calls_and_files_are_cached(port: GitLabQueuePort) -> None:
    await port.observe(empty(port))  # resolves the bot, reads base and diffs of every head
    mrs = 4
    assert port.client.calls["mr.get"] == mrs
    assert port.client.calls["mr.changes"] == mrs
    before = Counter(port.client.calls)
    await port.observe(empty(port))
    spent = Counter(port.client.calls) - before
    # branch, two listings, one page of pipelines: the same whatever the number of MRs
    assert spent == Counter({"mr.list": 2, "branch.get": 1, "pipeline.list": 1})
    assert "mr.approvals" not in port.client.calls


async def test_a_new_head_costs_its_one_time_reads(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    await port.observe(empty(port))
    await root.create_commit(
        PROJECT,
        "topic-5",
        "more",
        [CommitAction(action="create", file_path="src/more5.txt", content="more\n")],
    )
    await asyncio.to_thread(sandbox.catch_up)  # GitLab refreshes the MR a moment after
    before = Counter(port.client.calls)
    by_iid = {mr.iid: mr for mr in (await port.observe(empty(port))).merge_requests}
    spent = Counter(port.client.calls) - before
    assert spent == Counter(
        {"mr.list": 2, "branch.get": 1, "pipeline.list": 1, "mr.get": 1, "mr.changes": 1}
    )
    fresh = await root.get_merge_request(PROJECT, 5)
    assert by_iid[5].head_sha == fresh.sha
    assert by_iid[5].files_changed == ("src/more5.txt", "src/mr5.txt")
    assert fresh.diff_refs is not None
    assert by_iid[5].base_sha == fresh.diff_refs.base_sha
    # Only the pipeline of the current head counts: the old head's is not reported.
    assert by_iid[5].head_pipeline is None or by_iid[5].head_pipeline.sha == fresh.sha
    await asyncio.to_thread(sandbox.wait_for_pipelines)  # other tests expect finished CI


async def test_the_newest_pipeline_of_a_head_wins(
    sandbox: RunningSandbox, port: GitLabQueuePort, root: GitLabClient
) -> None:
    first = {mr.iid: mr for mr in (await port.observe(empty(port))).merge_requests}
    assert first[1].head_pipeline is not None
    again = await root.create_pipeline(PROJECT, "topic-1")
    by_iid = {mr.iid: mr for mr in (await port.observe(empty(port))).merge_requests}
    assert by_iid[1].head_pipeline is not None
    assert by_iid[1].head_pipeline.id == again.id > first[1].head_pipeline.id
    await asyncio.to_thread(sandbox.wait_for_pipelines)  # other tests expect finished CI


async def test_heads_beyond_the_newest_page_are_read_by_sha(
    port: GitLabQueuePort, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = {mr.iid: mr for mr in (await port.observe(empty(port))).merge_requests}
    monkeypatch.setattr(observe, "PAGE", 1)  # the newest page holds one pipeline only
    before = Counter(port.client.calls)
    by_iid = {mr.iid: mr for mr in (await port.observe(empty(port))).merge_requests}
    spent = Counter(port.client.calls) - before
    assert {iid: mr.head_pipeline for iid, mr in by_iid.items()} == {
        iid: mr.head_pipeline for iid, mr in everything.items()
    }
    assert 1 < spent["pipeline.list"] <= 1 + len(by_iid)


async def test_an_unknown_bot_is_an_error(sandbox: RunningSandbox, tmp_path: Path) -> None:
    async with open_port(sandbox, tmp_path, CONFIG) as opened:
        opened.observer.bot_username = "nobody-here"
        with pytest.raises(GitLabNotFound, match="nobody-here"):
            await opened.observe(empty(opened))


async def test_gitlab_failing_after_retries_raises_for_the_runner(
    sandbox: RunningSandbox, port: GitLabQueuePort
) -> None:
    sandbox.faults(rules=[{"path": "merge_requests", "error_rate": 1.0, "statuses": [503]}])
    try:
        with pytest.raises(GitLabUnavailable):
            await port.observe(empty(port))
    finally:
        sandbox.faults(rules=[])
    assert (await port.observe(empty(port))).merge_requests
