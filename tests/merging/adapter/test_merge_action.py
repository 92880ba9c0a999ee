"""The ``MergeMR`` action against a fast-forward project: GitLab leaves ``merge_commit_sha``
null after a fast-forward (doc/api/merge_requests.md), so the landed commit is the head."""

from __future__ import annotations

from pathlib import Path

from gitlab_sandbox.testing import run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import MergeResult
from tests.merging.adapter.driver import PROJECT, TARGET, queue_scenario
from tests.merging.adapter.sandbox_queue import open_port


async def test_a_fast_forward_merge_reports_the_head_as_landed(tmp_path: Path) -> None:
    scenario = queue_scenario(1, broken=frozenset(), conflicting=None, reviewer_only=frozenset())
    scenario["projects"][0]["settings"] = {"merge_method": "ff"}
    with run_sandbox(scenario) as sandbox:
        async with (
            GitLabClient(
                sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
            ) as root,
            open_port(sandbox, tmp_path, EngineConfig()) as port,
        ):
            mr = await root.get_merge_request(PROJECT, 1)
            before = await root.get_branch(PROJECT, TARGET)
            assert mr.sha
            assert before.commit is not None
            merge = act.MergeMR(iid=1, sha=mr.sha, expected_target_sha=before.commit.id)
            result = await port.perform(merge)
            assert isinstance(result, MergeResult)
            assert (result.status, result.merge_sha) == ("merged", mr.sha)
            merged = await root.get_merge_request(PROJECT, 1)
            assert merged.state == "merged"
            assert merged.merge_commit_sha is None
            after = await root.get_branch(PROJECT, TARGET)
            assert after.commit is not None
            assert after.commit.id == mr.sha
            assert await port.perform(merge) == result  # a replay reads the same landing
