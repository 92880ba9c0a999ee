"""GitLab's side of the facts against the sandbox: the MR's head pipeline as GitLab reports it,
a merged results pipeline included (its ``sha`` is a merge commit, not the MR's)."""

from __future__ import annotations

from datetime import UTC, datetime

from gitlab_sandbox.testing import run_sandbox
from merge_assist.assistant.explain import MergeRequestFacts
from merge_assist.assistant.gather import _with_gitlab
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.schemas import MergeRequestOut
from tests.merging.adapter.driver import BOT, PROJECT, TOGETHER_MARKERS, queue_scenario
from tests.merging.adapter.test_merged_results_queue import (
    MERGED_RESULTS,
    move_main,
    run_mr_pipelines,
)


def _facts(iid: int, head_sha: str) -> MergeRequestFacts:
    now = datetime.now(UTC)
    stored = MergeRequestOut(
        id=iid,
        project_id=1,
        iid=iid,
        target_branch="main",
        source_branch=f"topic-{iid}",
        title=f"Change {iid}",
        author_username="alice",
        web_url=None,
        queue_state="not_ready",
        priority=0,
        strikes=0,
        head_sha=head_sha,
        pipeline_status=None,
        pipeline_url=None,
        reasons=[],
        batch_id=None,
        recognised_at=now,
        merged_at=None,
        rejected_at=None,
        updated_at=now,
    )
    return MergeRequestFacts(mr=stored, reference=f"{PROJECT}!{iid}", max_strikes=3)


async def test_a_merged_results_head_pipeline_is_the_mrs_pipeline() -> None:
    # !1 passes alone and fails merged into main (main has the other half); !2 passes both.
    scenario = queue_scenario(
        2, broken=frozenset(), conflicting=None, together=(1, 3), settings=MERGED_RESULTS
    )
    with run_sandbox(scenario) as sandbox:
        sandbox.wait_for_pipelines()
        half = {"action": "create", "file_path": "src/half-main.txt"}
        move_main(sandbox, {**half, "content": f"{TOGETHER_MARKERS[1]}\n"}, "The other half")
        made = run_mr_pipelines(sandbox, range(1, 3))
        async with GitLabClient(
            sandbox.url, sandbox.token_for(BOT), retry=RetryPolicy(max_retries=0)
        ) as client:
            project = (await client.get_project(PROJECT)).id
            one = await client.get_merge_request(project, 1)
            two = await client.get_merge_request(project, 2)
            failing = await _with_gitlab(client, project, _facts(1, one.sha or ""))
            passing = await _with_gitlab(client, project, _facts(2, two.sha or ""))
    ci = {"no_pipeline", "pipeline_running", "pipeline_failed"}
    (failed,) = [reason for reason in failing.live if reason.code in ci]
    assert failed.code == "pipeline_failed"
    assert f"#{made[1].id}" in failed.message
    assert failing.jobs, "the failing jobs of the merged results pipeline are read"
    assert not [reason for reason in passing.live if reason.code in ci]
    assert passing.jobs == []
