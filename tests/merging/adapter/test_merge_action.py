"""The ``MergeMR`` action against a fast-forward project: GitLab leaves ``merge_commit_sha``
null after a fast-forward (doc/api/merge_requests.md), so the landed commit is the head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gitlab_sandbox.testing import run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter.merge_action import STILL_CHECKING
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


async def test_a_refusal_while_gitlab_still_checks_is_retried_not_a_block(tmp_path: Path) -> None:
    """GitLab is asynchronous: an MR reads ``preparing``/``unchecked``/``checking`` for a while
    (``detailed_merge_status_service.rb``). A 405 then is ``failed`` (the queue tries again);
    once GitLab has checked the MR, the same refusal is ``not_mergeable``."""
    scenario = queue_scenario(1, broken=frozenset(), conflicting=None, reviewer_only=frozenset())
    scenario["projects"][0]["merge_requests"][0]["draft"] = True
    scenario["clock_speed"] = 0  # GitLab's checks end only when the test moves the clock
    with run_sandbox(scenario) as sandbox:
        async with (
            GitLabClient(
                sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
            ) as root,
            open_port(sandbox, tmp_path, EngineConfig()) as port,
        ):
            mr = await root.get_merge_request(PROJECT, 1)
            assert mr.sha
            assert mr.detailed_merge_status in STILL_CHECKING
            merge = act.MergeMR(iid=1, sha=mr.sha, expected_target_sha=None)
            early = await port.perform(merge)
            assert isinstance(early, MergeResult)
            assert early.status == "failed"
            await asyncio.to_thread(sandbox.catch_up, 5)  # GitLab's check ends
            assert (await root.get_merge_request(PROJECT, 1)).detailed_merge_status == (
                "draft_status"
            )
            late = await port.perform(merge)
            assert isinstance(late, MergeResult)
            assert late.status == "not_mergeable"
