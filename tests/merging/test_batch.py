"""The batch strategy, step by step: build, test, land exactly the tested commit, bisect."""

from __future__ import annotations

from merge_assist.merging.config import EngineConfig
from merge_assist.merging.decide import Decision
from merge_assist.merging.observations import (
    BatchBranchResult,
    BatchMergeResult,
    BatchMRResult,
    MergeResult,
    Pipeline,
    PushResult,
)
from merge_assist.merging.state import Phase
from tests.merging.factories import (
    TARGET_SHA,
    empty_state,
    kinds,
    observe,
    of_kind,
    sha,
    snapshot,
    step,
)

BATCH_LABEL = "Merge Assist: Batch Merge Request"


def config(landing: str = "push", size: int = 3) -> EngineConfig:
    return EngineConfig(strategy="batch", landing=landing, batch_size=size)


MRS = (snapshot(1), snapshot(2, priority=1), snapshot(3), snapshot(4))


def build(decision: Decision, cfg: EngineConfig, conflicts: tuple[int, ...] = ()) -> Decision:
    """Answer the branch creation and member merges of the attempt just started."""
    (branch,) = of_kind(decision, "create_batch_branch")
    assert branch.base_sha == TARGET_SHA
    created = BatchBranchResult(attempt_id=branch.attempt_id, status="created", sha=TARGET_SHA)
    merging = step(decision.state, observe(*MRS, results=(created,)), cfg)
    merges = of_kind(merging, "merge_into_batch")
    results = []
    head = TARGET_SHA
    for merge in merges:
        if merge.iid in conflicts:
            results.append(
                BatchMergeResult(
                    attempt_id=merge.attempt_id, iid=merge.iid, status="conflict", prefix_sha=head
                )
            )
        else:
            head = sha(f"p{merge.iid}")
            results.append(
                BatchMergeResult(
                    attempt_id=merge.attempt_id, iid=merge.iid, status="merged", prefix_sha=head
                )
            )
    return step(merging.state, observe(*MRS, results=tuple(results)), cfg)


def test_a_batch_takes_the_next_ready_mrs_in_queue_order() -> None:
    decision = step(empty_state(), observe(*MRS), config())
    assert decision.state.batch_run is not None
    assert decision.state.batch_run.bisect.pending == (2, 1, 3)
    phases = {mr.iid: mr.phase for mr in decision.state.merge_requests}
    assert phases == {1: Phase.MERGING, 2: Phase.MERGING, 3: Phase.MERGING, 4: Phase.READY}
    built = build(decision, config())
    (batch_mr,) = of_kind(built, "create_batch_mr")
    assert batch_mr.labels == (BATCH_LABEL,)
    (run,) = of_kind(built, "run_pipeline")
    assert run.sha == sha("p3")
    assert run.ref == batch_mr.branch


def pass_pipeline(decision: Decision, cfg: EngineConfig, status: str = "success") -> Decision:
    (run,) = of_kind(decision, "run_pipeline")
    created = BatchMRResult(
        attempt_id=run.attempt_id,
        status="created",
        iid=77,
        web_url="https://gitlab.example/g/p/-/merge_requests/77",
    )
    ran = Pipeline(id=500, sha=run.sha, status=status)
    return step(decision.state, observe(*MRS, results=(created,), pipelines=(ran,)), cfg)


def test_push_landing_moves_the_target_to_exactly_the_tested_commit() -> None:
    cfg = config("push")
    landing = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg)
    (push,) = of_kind(landing, "push_target")
    assert (push.sha, push.expected_old_sha) == (sha("p3"), TARGET_SHA)
    announced = [c for c in of_kind(landing, "post_comment") if c.template == "batch_in_progress"]
    assert {c.iid for c in announced} == {1, 2, 3}
    assert "merge_requests/77" in announced[0].body
    pushed = PushResult(attempt_id=push.attempt_id, status="pushed", new_sha=sha("p3"))
    merged = tuple(s.model_copy(update={"state": "merged"}) for s in MRS[:3]) + MRS[3:]
    after = step(landing.state, observe(*merged, target_sha=sha("p3"), results=(pushed,)), cfg)
    comments = [c for c in of_kind(after, "post_comment") if c.template == "merged_batch"]
    assert {c.iid for c in comments} == {1, 2, 3}
    assert "close_batch_mr" in kinds(after)
    assert "delete_branch" in kinds(after)
    assert after.state.batch_run is not None  # the next run (!4) started at once
    assert after.state.batch_run.bisect.pending == (4,)


def test_merge_api_landing_merges_the_batch_mr_with_the_tested_sha() -> None:
    cfg = config("merge_api")
    landing = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg)
    (merge,) = of_kind(landing, "merge_mr")
    assert (merge.iid, merge.sha, merge.expected_target_sha) == (77, sha("p3"), TARGET_SHA)
    result = MergeResult(iid=77, status="merged", merge_sha=sha("M"))
    after = step(landing.state, observe(*MRS, target_sha=sha("M"), results=(result,)), cfg)
    assert {c.iid for c in of_kind(after, "post_comment")} >= {1, 2, 3}


def test_a_conflicting_member_is_struck_and_the_others_go_on() -> None:
    cfg = config()
    built = build(step(empty_state(), observe(*MRS), cfg), cfg, conflicts=(1,))
    (comment,) = of_kind(built, "post_comment")
    assert (comment.iid, comment.template) == (1, "batch_conflict")
    assert "attempt 1/3" in comment.body
    mr = built.state.merge_request(1)
    assert (mr.strikes, mr.blocked) == (1, True)
    assert built.state.batch_run.bisect.pending == (2, 3)
    assert len(of_kind(built, "create_batch_branch")) == 1  # the next attempt, without !1
    assert of_kind(built, "delete_branch")
    rebuilt = build(built, cfg)
    assert [m.iid for m in rebuilt.state.attempts[0].members] == [2, 3]


def test_a_red_batch_is_bisected() -> None:
    cfg = config()
    failed = pass_pipeline(build(step(empty_state(), observe(*MRS), cfg), cfg), cfg, "failed")
    run = failed.state.batch_run
    assert run is not None
    assert run.bisect.known_failing == 3
    (branch,) = of_kind(failed, "create_batch_branch")
    assert branch.base_sha == TARGET_SHA
    (attempt,) = [a for a in failed.state.attempts if a.active]
    assert [m.iid for m in attempt.members] == [2]
    assert not attempt.probe
    # nobody is blamed before the culprit is known
    assert {c.template for c in of_kind(failed, "post_comment")} == {"batch_in_progress"}
