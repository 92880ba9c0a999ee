"""The queue on a project with merged results pipelines (``merge_pipelines_enabled``).

GitLab runs an MR's pipeline on the merge of its head into the target
(``refs/merge-requests/:iid/merge``): the pipeline's ``sha`` is that merge commit, not the MR's,
and GitLab counts it as the MR's head pipeline, before a branch pipeline of the same head
(``MergeRequest#diff_head_pipeline``). The queue validates against that pipeline: an MR whose
merged result passes lands though its own branch failed, one whose merged result fails is
rejected though its branch passed, and a merged result of an older head is never trusted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import gitlab
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.inputs import MergeRequestQuery
from merge_assist.gitlab.models import MergeRequest
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort
from merge_assist.merging.engine.config import EngineConfig, Landing, Strategy
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.engine.validation import validate
from tests.merging.adapter.driver import (
    FAIL_MARKER,
    PROJECT,
    TARGET,
    TOGETHER_MARKERS,
    drive,
    queue_scenario,
)
from tests.merging.adapter.sandbox_queue import open_port, strict_green_main

MERGED_RESULTS = {"merge_pipelines_enabled": True}
GATE = "ci-gate.txt"  # on main while the MRs branch off: every branch pipeline fails
CI_REASONS = {"no_pipeline", "pipeline_running", "pipeline_failed"}


def config_for(strategy: Strategy, landing: Landing = "merge_api") -> EngineConfig:
    return EngineConfig(
        strategy=strategy, landing=landing, batch_size=5, max_rejections=1, poll_seconds=60
    )


def as_user(sandbox: RunningSandbox, username: str) -> Any:
    """The project through python-gitlab as ``username`` (for what the product never does)."""
    client = gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for(username))
    return client.projects.get(PROJECT)


def move_main(sandbox: RunningSandbox, action: dict[str, str], message: str) -> str:
    """Someone pushes to ``main`` (not the queue); the new head."""
    made = as_user(sandbox, "root").commits.create(
        {"branch": TARGET, "commit_message": message, "actions": [action]}
    )
    return str(made.id)


def run_mr_pipelines(sandbox: RunningSandbox, iids: range) -> dict[int, Any]:
    """The author asks for each MR's pipeline: a merged results one on this project."""
    project = as_user(sandbox, "alice")
    made = {iid: project.mergerequests.get(iid).pipelines.create() for iid in iids}
    assert all(p.ref == f"refs/merge-requests/{iid}/merge" for iid, p in made.items())
    sandbox.wait_for_pipelines()
    return made


async def merge_requests(sandbox: RunningSandbox) -> dict[int, MergeRequest]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        found = await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
        return {mr.iid: mr for mr in found}


async def run_queue(sandbox: RunningSandbox, tmp_path: Path, config: EngineConfig) -> None:
    async with open_port(sandbox, tmp_path, config) as port:
        await drive(port, sandbox, config, project_id=port.project.id)


@pytest.fixture
def gated() -> Iterator[tuple[RunningSandbox, str]]:
    """Four MRs whose branch pipelines failed (``main`` had the gate), then ``main`` lost the
    gate and each MR's merged results pipeline passed."""
    scenario = queue_scenario(
        4,
        broken=frozenset(),
        conflicting=None,
        settings=MERGED_RESULTS,
        main_files={GATE: f"{FAIL_MARKER}\n"},
    )
    with run_sandbox(scenario) as sandbox:
        sandbox.wait_for_pipelines()
        opened = move_main(sandbox, {"action": "delete", "file_path": GATE}, "Open the gate")
        run_mr_pipelines(sandbox, range(1, 5))
        yield sandbox, opened


@pytest.mark.parametrize(
    ("strategy", "landing"),
    [("single", "merge_api"), ("batch", "merge_api"), ("batch", "push"), ("train", "merge_api")],
)
async def test_mrs_land_through_their_merged_results_pipelines(
    gated: tuple[RunningSandbox, str], tmp_path: Path, strategy: Strategy, landing: Landing
) -> None:
    sandbox, opened = gated
    project = as_user(sandbox, "root")
    for iid in range(1, 5):
        mr = project.mergerequests.get(iid)
        head = mr.head_pipeline
        assert (head["ref"], head["status"]) == (f"refs/merge-requests/{iid}/merge", "success")
        (branch,) = project.pipelines.list(sha=mr.sha, ref=f"topic-{iid}")
        assert branch.status == "failed"  # a queue reading pipelines by sha would reject it
    config = config_for(strategy, landing)
    await run_queue(sandbox, tmp_path, config)
    mrs = await merge_requests(sandbox)
    assert {iid: mr.state for iid, mr in mrs.items() if iid <= 4} == dict.fromkeys(
        range(1, 5), "merged"
    )
    assert not [iid for iid, mr in mrs.items() if config.labels.rejected in mr.labels]
    # Every tip the queue gave main was tested first (the gate's removal was pushed by hand).
    assert [sha for sha in strict_green_main(sandbox) if sha != opened] == []


async def test_a_failing_merged_results_pipeline_rejects_the_mr(tmp_path: Path) -> None:
    # !1 passes CI alone; main gets the other half, so the merge of !1 into main fails.
    scenario = queue_scenario(
        2, broken=frozenset(), conflicting=None, together=(1, 3), settings=MERGED_RESULTS
    )
    with run_sandbox(scenario) as sandbox:
        sandbox.wait_for_pipelines()
        half = {"action": "create", "file_path": "src/half-main.txt"}
        move_main(sandbox, {**half, "content": f"{TOGETHER_MARKERS[1]}\n"}, "The other half")
        made = run_mr_pipelines(sandbox, range(1, 3))
        assert as_user(sandbox, "root").pipelines.get(made[1].id).status == "failed"
        before = await merge_requests(sandbox)
        branch = as_user(sandbox, "root").pipelines.list(sha=before[1].sha, ref="topic-1")
        assert [p.status for p in branch] == ["success"]
        config = config_for("single")
        await run_queue(sandbox, tmp_path, config)
        after = await merge_requests(sandbox)
        assert after[2].state == "merged"
        rejected = after[1]
        assert (rejected.state, rejected.sha) == ("opened", before[1].sha)  # never rebased
        assert config.labels.rejected in rejected.labels
        notes = as_user(sandbox, "root").mergerequests.get(1).notes.list(get_all=True)
        rejection = [n.body for n in notes if "merge-assist:" in n.body and "rejected" in n.body]
        assert rejection
        assert f"#{made[1].id}" in rejection[0]


@pytest.fixture
def merged_result() -> Iterator[RunningSandbox]:
    """!1 with a passing merged results pipeline of its head."""
    scenario = queue_scenario(1, broken=frozenset(), conflicting=None, settings=MERGED_RESULTS)
    with run_sandbox(scenario) as sandbox:
        sandbox.wait_for_pipelines()
        move_main(
            sandbox,
            {"action": "create", "file_path": "main.txt", "content": "on\n"},
            "Main moves on",
        )
        run_mr_pipelines(sandbox, range(1, 2))
        yield sandbox


@pytest.fixture
async def port(merged_result: RunningSandbox, tmp_path: Path) -> AsyncIterator[GitLabQueuePort]:
    async with open_port(merged_result, tmp_path, EngineConfig()) as opened:
        yield opened


async def test_the_merged_results_pipeline_is_the_head_pipeline_of_the_head_it_merged(
    merged_result: RunningSandbox, port: GitLabQueuePort
) -> None:
    gitlab_head = as_user(merged_result, "root").mergerequests.get(1).head_pipeline
    observations = await port.observe(TargetQueueState.empty(port.project.id, TARGET))
    (mr,) = observations.merge_requests
    pipeline = mr.head_pipeline
    assert pipeline is not None
    assert (pipeline.id, pipeline.sha) == (gitlab_head["id"], gitlab_head["sha"])
    assert pipeline.sha != mr.head_sha
    assert pipeline.source_sha == mr.head_sha
    verdict = validate(mr, target_branch=TARGET, config=EngineConfig())
    assert not {reason.code for reason in verdict.reasons} & CI_REASONS  # its CI passed
    calls = port.client.calls["commit.get"]
    await port.observe(TargetQueueState.empty(port.project.id, TARGET))
    assert port.client.calls["commit.get"] == calls  # the merge commit is read once


async def test_a_merged_results_pipeline_of_an_older_head_is_not_trusted(
    merged_result: RunningSandbox, port: GitLabQueuePort
) -> None:
    project = as_user(merged_result, "root")
    old = project.mergerequests.get(1).head_pipeline
    assert old["status"] == "success"
    # Merged results pipelines turned off: the next push runs a branch pipeline only, and the
    # newest merge ref pipeline of !1 is the old head's.
    project.merge_pipelines_enabled = False
    project.save()
    merged_result.set_clock_speed(0)  # CI holds still: the new head's pipeline stays pending
    pushed = as_user(merged_result, "alice").commits.create(
        {
            "branch": "topic-1",
            "commit_message": "More",
            "actions": [{"action": "create", "file_path": "src/more.txt", "content": "m\n"}],
        }
    )
    merged_result.advance_clock(2)  # GitLab reacts to the push a moment later
    merged_result.wait_idle()
    observations = await port.observe(TargetQueueState.empty(port.project.id, TARGET))
    (mr,) = observations.merge_requests
    assert mr.head_sha == pushed.id
    assert mr.head_pipeline is not None
    assert mr.head_pipeline.id != old["id"]
    assert (mr.head_pipeline.sha, mr.head_pipeline.ref) == (mr.head_sha, "topic-1")
    verdict = validate(mr, target_branch=TARGET, config=EngineConfig())
    assert verdict.status == "waiting"
    assert {reason.code for reason in verdict.reasons} & CI_REASONS == {"pipeline_running"}
