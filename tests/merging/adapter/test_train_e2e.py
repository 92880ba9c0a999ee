"""The train strategy end to end against the sandbox (through ``GitLabQueuePort``).

The same ten MRs as ``test_gitlab_port_e2e``: cars of three, up to three at once, each built
on the car ahead's tested tree; every good MR lands, the broken one and one of the conflicting
pair are rejected, ``main`` only moves to trees CI passed, nothing lands twice, also with the
worker dying after each kind of action.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.merging.engine.config import EngineConfig, Landing
from tests.merging.adapter.driver import crash_on_kinds, queue_scenario
from tests.merging.adapter.test_gitlab_port_e2e import CRASH_KINDS, assert_outcome, run_queue


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(queue_scenario()) as running:
        yield running


def train_config(landing: Landing) -> EngineConfig:
    return EngineConfig(
        strategy="train",
        landing=landing,
        batch_size=3,
        train_depth=3,
        max_rejections=1,
        poll_seconds=60,
    )


@pytest.mark.parametrize("landing", ["merge_api", "push"])
async def test_a_train_merges_good_mrs_and_rejects_bad_ones(
    sandbox: RunningSandbox, tmp_path: Path, landing: Landing
) -> None:
    config = train_config(landing)
    log = await run_queue(sandbox, tmp_path, config)
    assert log.events("train_car_started")
    await assert_outcome(sandbox, config, log)


@pytest.mark.parametrize("landing", ["merge_api", "push"])
async def test_a_train_worker_dying_after_each_kind_of_action_changes_nothing(
    sandbox: RunningSandbox, tmp_path: Path, landing: Landing
) -> None:
    config = train_config(landing)
    log = await run_queue(sandbox, tmp_path, config, crash=crash_on_kinds(CRASH_KINDS, times=2))
    landing_kind = "push_target" if landing == "push" else "merge_mr"
    assert {landing_kind, "build_batch", "post_comment", "unassign"} <= log.kinds()
    assert log.crashes >= 3
    await assert_outcome(sandbox, config, log)


@pytest.mark.parametrize("landing", ["merge_api", "push"])
async def test_landings_that_skip_ci_leave_no_pipeline_running_on_the_target(
    sandbox: RunningSandbox, tmp_path: Path, landing: Landing
) -> None:
    config = train_config(landing).model_copy(update={"skip_ci_on_landing": True})
    before = {p["id"] for p in sandbox.pipelines() if p["ref"] == "main"}
    log = await run_queue(sandbox, tmp_path, config)
    await assert_outcome(sandbox, config, log)
    on_main = [p for p in sandbox.pipelines() if p["ref"] == "main" and p["id"] not in before]
    assert on_main, "each landing leaves a (skipped) pipeline record on the target"
    assert {p["status"] for p in on_main} == {"skipped"}
