"""Pipeline retries in what the runner stores and logs."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import PipelineRetryResult
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence.describe import describe_action
from merge_assist.merging.persistence.models import EngineStateRow, QueueLogEntry
from tests.merging.persistence.runner_support import (
    TARGET,
    WorldPort,
    add_project,
    drive,
    resources,
)
from tests.merging.world import World


def test_a_retry_is_logged_with_its_cause_for_the_mr() -> None:
    action = act.RetryPipeline(
        pipeline_id=41, sha="a" * 40, retry=1, retries_allowed=1, iids=(7,), subject="!7"
    )
    result = PipelineRetryResult(pipeline_id=41, sha="a" * 40, status="retried", retries=1)
    line = describe_action(action, result)
    assert line.message == (
        "retrying pipeline #41 of !7 (attempt 2 of 2): it failed; a flake is possible"
    )
    assert line.iid == 7
    assert line.details == {"action": "retry_pipeline", "key": "retry-pipeline:41:1"}
    refused = result.model_copy(update={"status": "refused", "message": "403 Forbidden"})
    assert describe_action(action, refused).message.endswith("; GitLab refused: 403 Forbidden")


async def test_a_state_stored_before_retries_existed_loads_and_the_queue_runs(
    settings: Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await add_project(sessions, strategy="single", max_rejections=1)
    old = json.loads(TargetQueueState.empty(project_id, TARGET).to_json())
    del old["pipeline_retries"]  # what a worker before this change stored
    async with unit_of_work(sessions) as session:
        session.add(
            EngineStateRow(
                project_id=project_id,
                target_branch=TARGET,
                state_json=json.dumps(old),
                version=3,
            )
        )
    world = World.create([1, 2, 3], bad={2}, bad_pairs=set(), conflict_pairs=set())
    await drive(resources(settings, engine, sessions), project_id, WorldPort(world, project_id))
    assert world.violations == []
    assert world.merged_iids() == {1, 3}
    # !2 fails for real: its pipeline was retried once (logged), then it was rejected.
    async with sessions() as session:
        messages = (await session.execute(select(QueueLogEntry.message))).scalars().all()
    retried = [m for m in messages if m.startswith("retrying pipeline")]
    assert retried
    assert all("of !2 (attempt 2 of 2)" in m for m in retried)
    assert any("!2 rejected" in m for m in messages)
