"""``RetryPipeline`` against the sandbox's flaky CI: GitLab's retry, once per retry number.

The sandbox decides a flake per tree and attempt; the tests make the first attempt flaky
(``flake_rate`` 1) and the retry clean (0), so the outcome does not depend on the seed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.models import CommitAction, Pipeline
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter.pipeline_retry import times_retried
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import PipelineRetryResult
from merge_assist.merging.engine.state import TargetQueueState
from tests.merging.adapter.driver import PROJECT, TARGET, crash_on_kinds, drive, queue_scenario
from tests.merging.adapter.sandbox_queue import open_port

SINGLE = EngineConfig(strategy="single", max_rejections=1)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    scenario = queue_scenario(3, broken=frozenset(), conflicting=None, reviewer_only=frozenset())
    with run_sandbox(scenario) as running:
        yield running


@pytest.fixture
async def root(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as client:
        yield client


async def settled(sandbox: RunningSandbox, root: GitLabClient, sha: str) -> Pipeline:
    """The newest pipeline of ``sha`` once it finished (simulated time is pushed on)."""
    for _ in range(200):
        found = await root.list_pipelines(PROJECT, sha=sha, limit=1)
        if found and found[0].status in ("success", "failed", "canceled"):
            return found[0]
        await asyncio.to_thread(sandbox.advance_clock, 30)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no pipeline of {sha} finished")


async def flaky_push(sandbox: RunningSandbox, root: GitLabClient, branch: str) -> Pipeline:
    """Push to ``branch`` while every pipeline flakes; its pipeline failed (a flake)."""
    rules = sandbox.sandbox.ci.rules
    rules.flake_rate = 1.0
    try:
        commit = await root.create_commit(
            PROJECT,
            branch,
            f"Touch {branch}",
            [CommitAction(action="create", file_path=f"{branch}.flaky", content="x\n")],
        )
        failed = await settled(sandbox, root, commit.id)
    finally:
        rules.flake_rate = 0.0
    assert failed.status == "failed"
    return failed


async def test_a_retry_runs_the_same_pipeline_again_once(
    sandbox: RunningSandbox, root: GitLabClient, tmp_path: Path
) -> None:
    failed = await flaky_push(sandbox, root, "topic-3")
    action = act.RetryPipeline(
        pipeline_id=failed.id, sha=failed.sha, retry=1, retries_allowed=1, subject="!3"
    )
    async with open_port(sandbox, tmp_path, SINGLE) as port:
        first = await port.perform(action)
        again = await port.perform(action)  # a replay after a crash: nothing more
        rerun = await root.get_pipeline(PROJECT, failed.id)
        assert rerun.status in ("pending", "running")  # GitLab: same id, running again
        state = TargetQueueState.empty(port.project.id, TARGET)
        observed = await port.observe(state)
    expected = PipelineRetryResult(
        pipeline_id=failed.id, sha=failed.sha, status="retried", retries=1
    )
    assert first == again == expected
    (snapshot,) = [mr for mr in observed.merge_requests if mr.iid == 3]
    assert snapshot.head_sha == failed.sha
    assert snapshot.head_pipeline is not None
    assert snapshot.head_pipeline.id == failed.id
    assert snapshot.head_pipeline.status in ("pending", "running")
    jobs = await root.pipeline_jobs(PROJECT, failed.id, include_retried=True)
    assert (len(jobs), times_retried(jobs)) == (2, 1)
    assert (await settled(sandbox, root, failed.sha)).status == "success"


async def test_a_pipeline_that_is_not_there_is_refused(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    action = act.RetryPipeline(pipeline_id=99999, sha="0" * 40, retry=1, retries_allowed=1)
    async with open_port(sandbox, tmp_path, SINGLE) as port:
        result = await port.perform(action)
    assert isinstance(result, PipelineRetryResult)
    assert result.status == "refused"


async def test_an_mr_whose_pipeline_flaked_is_retried_and_merged_not_struck(
    sandbox: RunningSandbox, root: GitLabClient, tmp_path: Path
) -> None:
    failed = await flaky_push(sandbox, root, "topic-1")
    async with open_port(sandbox, tmp_path, SINGLE) as port:
        _, log = await drive(
            port,
            sandbox,
            SINGLE,
            project_id=port.project.id,
            crash=crash_on_kinds({"retry_pipeline"}),  # the retry is replayed once
        )
    retries = [a for a in log.performed if isinstance(a, act.RetryPipeline)]
    assert {(a.pipeline_id, a.retry) for a in retries} == {(failed.id, 1)}
    assert log.crashes == 1
    assert log.events("struck") == []
    assert log.events("rejected") == []
    assert {r.iids[0] for r in log.events("merged")} >= {1}
    jobs = await root.pipeline_jobs(PROJECT, failed.id, include_retried=True)
    assert times_retried(jobs) == 1  # the replay did not retry a second time
    mr = await root.get_merge_request(PROJECT, 1)
    assert mr.state == "merged"
