"""decide() is total: arbitrary, inconsistent observations never raise or corrupt the state."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import decide
from merge_assist.merging.engine.observations import (
    BatchBuildResult,
    BatchMRResult,
    BuiltMember,
    FileLock,
    MergeRequestSnapshot,
    MergeResult,
    Observations,
    Pipeline,
    PipelineResult,
    PushResult,
    RebaseResult,
)
from merge_assist.merging.engine.state import TargetQueueState
from tests.merging.engine.factories import NOW

shas = st.sampled_from(["a" * 40, "b" * 40, "c" * 40, "d" * 40])
iids = st.integers(1, 4)
ids = st.integers(0, 12)
pipelines = st.builds(
    Pipeline,
    id=st.integers(1, 9),
    sha=shas,
    status=st.sampled_from(["success", "failed", "running", "canceled", "skipped", "weird"]),
)
snapshots = st.builds(
    MergeRequestSnapshot,
    iid=iids,
    target_branch=st.sampled_from(["main", "main", "other"]),
    head_sha=shas,
    state=st.sampled_from(["opened", "opened", "closed", "merged", "locked"]),
    draft=st.booleans(),
    bot_is_assignee=st.booleans(),
    bot_is_reviewer=st.booleans(),
    base_sha=st.none() | shas,
    detailed_merge_status=st.none() | st.sampled_from(["mergeable", "not_approved", "checking"]),
    has_conflicts=st.booleans(),
    approvals_left=st.none() | st.integers(0, 2),
    head_pipeline=st.none() | pipelines,
    priority=st.integers(0, 2),
    files_changed=st.lists(st.sampled_from(["a", "b"]), max_size=2).map(tuple),
)
results = st.one_of(
    st.builds(
        RebaseResult,
        iid=iids,
        status=st.sampled_from(["done", "conflict", "in_progress", "failed"]),
        new_sha=st.none() | shas,
    ),
    st.builds(
        BatchBuildResult,
        attempt_id=ids,
        status=st.sampled_from(["built", "failed"]),
        sha=st.none() | shas,
        members=st.lists(
            st.builds(
                BuiltMember,
                iid=iids,
                status=st.sampled_from(["merged", "conflict"]),
                prefix_sha=st.none() | shas,
            ),
            max_size=3,
        ).map(tuple),
    ),
    st.builds(
        BatchMRResult,
        attempt_id=ids,
        status=st.sampled_from(["created", "failed"]),
        iid=st.none() | st.integers(50, 52),
    ),
    st.builds(PipelineResult, attempt_id=ids, sha=shas, status=st.just("created")),
    st.builds(
        MergeResult,
        iid=st.integers(1, 52),
        status=st.sampled_from(
            ["merged", "sha_mismatch", "target_moved", "not_mergeable", "failed"]
        ),
        merge_sha=st.none() | shas,
    ),
    st.builds(
        PushResult,
        attempt_id=ids,
        status=st.sampled_from(["pushed", "stale", "failed"]),
        new_sha=st.none() | shas,
    ),
)
observations = st.builds(
    Observations,
    project_id=st.just(1),
    target_branch=st.just("main"),
    target_sha=st.none() | shas,
    merge_requests=st.lists(snapshots, max_size=4, unique_by=lambda s: s.iid).map(tuple),
    pipelines=st.lists(pipelines, max_size=4).map(tuple),
    results=st.lists(results, max_size=5).map(tuple),
    locks=st.lists(
        st.builds(
            FileLock, path=st.sampled_from(["a", "b"]), holder=st.sampled_from(["x", "author1"])
        ),
        max_size=2,
    ).map(tuple),
)
configs = st.builds(
    EngineConfig,
    strategy=st.sampled_from(["single", "batch"]),
    landing=st.sampled_from(["merge_api", "push"]),
    batch_size=st.integers(1, 4),
    max_rejections=st.integers(1, 3),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(observations, min_size=1, max_size=12), configs)
def test_any_sequence_of_observations_is_handled(
    sequence: list[Observations], config: EngineConfig
) -> None:
    state = TargetQueueState.empty(project_id=1, target_branch="main")
    for observed in sequence:
        decision = decide(state, observed, config, NOW)
        assert decision.actions, "every decision says what to do, if only to wait"
        assert not [n for n in decision.notes if "internal error" in n], decision.notes
        assert TargetQueueState.from_json(decision.state.to_json()) == decision.state
        queued = [mr.iid for mr in decision.state.merge_requests]
        assert len(queued) == len(set(queued))
        active = [a for a in decision.state.attempts if a.active]
        assert len(active) <= 1  # one attempt at a time per target branch (no trains yet)
        state = decision.state
