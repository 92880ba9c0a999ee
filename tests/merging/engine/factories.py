"""Builders for engine values in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import Decision, decide
from merge_assist.merging.engine.observations import (
    ActionResult,
    FileLock,
    MergeRequestSnapshot,
    Observations,
    Pipeline,
)
from merge_assist.merging.engine.state import TargetQueueState

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TARGET_SHA = "t" * 40


def sha(name: str) -> str:
    return (name * 40)[:40]


def pipeline(head: str, status: str = "success", pipeline_id: int = 1) -> Pipeline:
    return Pipeline(id=pipeline_id, sha=head, status=status)


def snapshot(iid: int, **changes: Any) -> MergeRequestSnapshot:
    head = changes.pop("head_sha", sha(f"h{iid}"))
    values: dict[str, Any] = {
        "iid": iid,
        "target_branch": "main",
        "head_sha": head,
        "state": "opened",
        "author": f"author{iid}",
        "source_branch": f"feature/{iid}",
        "bot_is_assignee": True,
        "base_sha": TARGET_SHA,
        "detailed_merge_status": "mergeable",
        "approvals_left": 0,
        "head_pipeline": pipeline(head, "success", 100 + iid),
    }
    values.update(changes)
    return MergeRequestSnapshot(**values)


def observe(
    *mrs: MergeRequestSnapshot,
    target_sha: str | None = TARGET_SHA,
    results: tuple[ActionResult, ...] = (),
    pipelines: tuple[Pipeline, ...] = (),
    locks: tuple[FileLock, ...] = (),
) -> Observations:
    return Observations(
        project_id=1,
        target_branch="main",
        target_sha=target_sha,
        merge_requests=mrs,
        results=results,
        pipelines=pipelines,
        locks=locks,
    )


def empty_state() -> TargetQueueState:
    return TargetQueueState.empty(project_id=1, target_branch="main")


def step(
    state: TargetQueueState,
    observations: Observations,
    config: EngineConfig | None = None,
    now: datetime = NOW,
) -> Decision:
    decision = decide(
        state, observations, config or EngineConfig(strategy="single", pipeline_retries=0), now
    )
    assert not [note for note in decision.notes if "internal error" in note], decision.notes
    return decision


def kinds(decision: Decision) -> list[str]:
    return [action.kind for action in decision.actions]


def of_kind(decision: Decision, kind: str) -> list[Any]:
    return [action for action in decision.actions if action.kind == kind]
