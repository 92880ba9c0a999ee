"""End to end without a database: the engine drives the sandbox through ``GitLabQueuePort``.

Ten MRs assigned to the bot (one only as reviewer); one breaks CI, two conflict with each
other. In single and in batch mode every good MR lands, the two bad ones are rejected (label,
comment, bot unassigned), and ``main`` only ever moves to trees CI passed first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.inputs import MergeRequestQuery
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.engine.comments import marker
from merge_assist.merging.engine.config import EngineConfig, Landing, Strategy
from tests.merging.adapter.driver import (
    BOT,
    PROJECT,
    Crash,
    DriveLog,
    crash_every,
    crash_on_kinds,
    drive,
    queue_scenario,
)
from tests.merging.adapter.sandbox_queue import open_port, strict_green_main, target_tips

BROKEN = 4
CONFLICTING = (7, 8)
CRASH_KINDS = {
    "build_batch",
    "create_batch_mr",
    "run_pipeline",
    "rebase",
    "merge_mr",
    "push_target",
    "post_comment",
    "unassign",
    "close_batch_mr",
    "delete_branch",
}


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(queue_scenario()) as running:
        yield running


def config_for(strategy: Strategy, landing: Landing = "merge_api") -> EngineConfig:
    return EngineConfig(
        strategy=strategy, landing=landing, batch_size=5, max_rejections=1, poll_seconds=60
    )


async def run_queue(
    sandbox: RunningSandbox, tmp_path: Path, config: EngineConfig, *, crash: Crash | None = None
) -> DriveLog:
    async with open_port(sandbox, tmp_path, config) as port:
        _, log = await drive(port, sandbox, config, project_id=port.project.id, crash=crash)
    return log


async def assert_outcome(sandbox: RunningSandbox, config: EngineConfig, log: DriveLog) -> None:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        mrs = {
            mr.iid: mr
            for mr in await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
        }
        states = {iid: mr.state for iid, mr in mrs.items() if iid <= 10}
        merged = {iid for iid, state in states.items() if state == "merged"}
        rejected = {iid for iid in states if config.labels.rejected in mrs[iid].labels}
        # The broken MR and exactly one of the conflicting pair are rejected.
        assert BROKEN in rejected
        assert len(rejected & set(CONFLICTING)) == 1, states
        assert rejected == {BROKEN} | (rejected & set(CONFLICTING))
        assert merged == set(range(1, 11)) - rejected, states
        for iid in rejected:
            mr = mrs[iid]
            assert mr.state == "opened"
            assert BOT not in {u.username for u in [*mr.assignees, *mr.reviewers]}
            ours = {config.labels.name(k) for k in ("recognized", "not_ready", "ready_to_merge")}
            assert not ours & set(mr.labels), mr.labels
            notes = await root.mr_notes(PROJECT, iid)
            comments = [n.body for n in notes if "<!-- merge-assist:" in n.body]
            rejection = marker(f"{iid}:{mr.sha}:rejected")
            assert [c for c in comments if rejection in c], comments
            assert len(comments) == len(set(comments)), "a comment was posted twice"
        for iid in merged:
            assert not {config.labels.name(k) for k in ("not_ready", "rejected")} & set(
                mrs[iid].labels
            )
        # No batch MR left open, no batch branch left behind.
        still_open = await root.list_merge_requests(PROJECT, MergeRequestQuery(state="opened"))
        assert not [mr.iid for mr in still_open if mr.source_branch.startswith("merge-assist/")]
        assert not await root.list_branches(PROJECT, search="merge-assist/")
    # Nothing landed twice: one merged history record per MR, and main moved at most once per
    # merged MR (exactly once each in single mode).
    landed = Counter(iid for record in log.events("merged") for iid in record.iids)
    assert set(landed) == merged, landed
    assert max(landed.values()) == 1, landed
    tips = target_tips(sandbox)
    if config.strategy == "single":
        assert len(tips) == len(merged)
    else:
        assert 1 <= len(tips) < len(merged)
    assert strict_green_main(sandbox) == []


@pytest.mark.parametrize(
    ("strategy", "landing"),
    [("single", "merge_api"), ("batch", "merge_api"), ("batch", "push")],
)
async def test_the_queue_merges_good_mrs_and_rejects_bad_ones(
    sandbox: RunningSandbox, tmp_path: Path, strategy: Strategy, landing: Landing
) -> None:
    config = config_for(strategy, landing)
    log = await run_queue(sandbox, tmp_path, config)
    await assert_outcome(sandbox, config, log)


@pytest.mark.parametrize(
    ("strategy", "landing"),
    [("single", "merge_api"), ("batch", "merge_api"), ("batch", "push")],
)
async def test_a_worker_dying_after_each_kind_of_action_changes_nothing(
    sandbox: RunningSandbox, tmp_path: Path, strategy: Strategy, landing: Landing
) -> None:
    config = config_for(strategy, landing)
    log = await run_queue(sandbox, tmp_path, config, crash=crash_on_kinds(CRASH_KINDS, times=2))
    landing_kind = "push_target" if landing == "push" else "merge_mr"
    expected = {landing_kind, "post_comment", "unassign"} | (
        {"build_batch", "create_batch_mr", "delete_branch"} if strategy == "batch" else set()
    )
    assert expected <= log.kinds()
    # Which kinds share a step depends on CI timing; each expected kind crashed at least once,
    # and no more than twice per kind.
    assert len(expected) // 2 <= log.crashes <= 2 * len(CRASH_KINDS)
    await assert_outcome(sandbox, config, log)


@pytest.mark.parametrize("strategy", ["single", "batch"])
async def test_a_worker_dying_every_third_step_changes_nothing(
    sandbox: RunningSandbox, tmp_path: Path, strategy: Strategy
) -> None:
    config = config_for(strategy)
    log = await run_queue(sandbox, tmp_path, config, crash=crash_every(3, offset=1))
    # How many steps act depends on CI timing (a busy machine acts in fewer, larger steps):
    # every third of them crashed.
    assert log.crashes == (log.acting_steps + 2) // 3  # acting steps 1, 4, 7, …
    assert log.crashes >= 3
    await assert_outcome(sandbox, config, log)


@pytest.mark.parametrize("landing", ["merge_api", "push"])
async def test_a_pair_failing_only_together_is_bisected_in_a_batch(
    tmp_path: Path, landing: Landing
) -> None:
    pair = (2, 5)
    config = config_for("batch", landing)
    scenario = queue_scenario(6, broken=frozenset(), conflicting=None, together=pair)
    with run_sandbox(scenario) as sandbox:
        log = await run_queue(
            sandbox, tmp_path, config, crash=crash_on_kinds({"merge_mr", "push_target"}, 2)
        )
        culprits = log.events("culprit")
        assert culprits, "the pair was found by bisection"
        async with GitLabClient(
            sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
        ) as root:
            mrs = {
                mr.iid: mr
                for mr in await root.list_merge_requests(PROJECT, MergeRequestQuery(state="all"))
            }
        merged = {iid for iid, mr in mrs.items() if mr.state == "merged" and iid <= 6}
        assert len(merged & set(pair)) == 1, merged  # exactly one of the pair lands
        assert merged == set(range(1, 7)) - (set(pair) - merged)
        (loser,) = set(pair) - merged
        assert config.labels.rejected in mrs[loser].labels
        assert strict_green_main(sandbox) == []
