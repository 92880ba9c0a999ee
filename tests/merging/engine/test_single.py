"""The single strategy, step by step."""

from __future__ import annotations

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import MergeResult, RebaseResult
from merge_assist.merging.engine.state import Phase
from tests.merging.engine.factories import (
    TARGET_SHA,
    empty_state,
    kinds,
    observe,
    of_kind,
    pipeline,
    sha,
    snapshot,
    step,
)

SINGLE = EngineConfig(strategy="single", pipeline_retries=0)
READY_LABEL = "Merge Assist: Ready to Merge"


def test_an_mr_up_to_date_is_merged_next_step_with_sha_and_target_pinned() -> None:
    started = step(empty_state(), observe(snapshot(1)), SINGLE)
    assert of_kind(started, "merge_mr") == []  # stored first: a crash must find the attempt
    (add,) = of_kind(started, "add_labels")
    assert add.labels == (READY_LABEL,)
    decision = step(started.state, observe(snapshot(1, labels=(READY_LABEL,))), SINGLE)
    (merge,) = of_kind(decision, "merge_mr")
    assert (merge.iid, merge.sha, merge.expected_target_sha) == (1, sha("h1"), TARGET_SHA)
    merged = MergeResult(iid=1, status="merged", merge_sha=sha("m"))
    landed = snapshot(1, state="merged", labels=(READY_LABEL,))
    after = step(decision.state, observe(landed, results=(merged,)), SINGLE)
    (comment,) = of_kind(after, "post_comment")
    assert "Merged into `main`" in comment.body
    assert comment.template == "merged_single"
    (remove,) = of_kind(after, "remove_labels")
    assert remove.labels == (READY_LABEL,)
    assert [h.event for h in of_kind(after, "record_history")] == ["merged"]
    done = step(after.state, observe(snapshot(1, state="merged")), SINGLE)
    assert done.state.merge_requests == ()
    assert of_kind(done, "post_comment") == []


def behind_then_rebased() -> tuple[object, str]:
    decision = step(empty_state(), observe(snapshot(1, base_sha=sha("b"))), SINGLE)
    (rebase,) = of_kind(decision, "rebase")
    assert (rebase.expected_head_sha, rebase.onto_sha) == (sha("h1"), TARGET_SHA)
    new = sha("n")
    result = RebaseResult(iid=1, status="done", new_sha=new)
    rebased = snapshot(1, head_sha=new, head_pipeline=None)
    return step(decision.state, observe(rebased, results=(result,)), SINGLE), new


def test_behind_rebase_then_wait_for_the_new_head_pipeline_then_merge() -> None:
    waiting, new = behind_then_rebased()
    (run,) = of_kind(waiting, "run_pipeline")
    assert (run.sha, run.ref) == (new, "feature/1")
    running = snapshot(1, head_sha=new, head_pipeline=pipeline(new, "running", 9))
    still = step(waiting.state, observe(running), SINGLE)
    assert not {"merge_mr", "rebase", "run_pipeline"} & set(kinds(still))
    assert still.state.merge_request(1).phase == Phase.MERGING
    green = snapshot(1, head_sha=new, head_pipeline=pipeline(new, "success", 9))
    (merge,) = of_kind(step(still.state, observe(green), SINGLE), "merge_mr")
    assert merge.sha == new


def test_the_target_moving_during_the_pipeline_means_rebasing_again() -> None:
    waiting, new = behind_then_rebased()
    green = snapshot(1, head_sha=new, head_pipeline=pipeline(new, "success", 9))
    moved = step(waiting.state, observe(green, target_sha=sha("T")), SINGLE)
    assert of_kind(moved, "merge_mr") == []
    assert any("target branch moved" in note for note in moved.notes)
    (rebase,) = of_kind(moved, "rebase")
    assert rebase.onto_sha == sha("T")


def test_a_merge_refused_because_the_target_moved_is_retried() -> None:
    started = step(empty_state(), observe(snapshot(1)), SINGLE)
    decision = step(started.state, observe(snapshot(1)), SINGLE)
    assert of_kind(decision, "merge_mr")
    refused = MergeResult(iid=1, status="target_moved")
    moved = sha("T")
    again = step(decision.state, observe(snapshot(1), target_sha=moved, results=(refused,)), SINGLE)
    (rebase,) = of_kind(again, "rebase")
    assert rebase.onto_sha == moved
    assert of_kind(again, "post_comment") == []


def test_a_rebase_conflict_is_a_strike_and_waits_for_a_push() -> None:
    decision = step(empty_state(), observe(snapshot(1, base_sha=sha("b"))), SINGLE)
    conflict = RebaseResult(iid=1, status="conflict", message="CONFLICT (content): a.py")
    after = step(
        decision.state, observe(snapshot(1, base_sha=sha("b")), results=(conflict,)), SINGLE
    )
    mr = after.state.merge_request(1)
    assert (mr.strikes, mr.phase, mr.blocked) == (1, Phase.NOT_READY, True)
    (comment,) = of_kind(after, "post_comment")
    assert comment.template == "rebase_failed"
    assert "attempt 1/3" in comment.body
    assert of_kind(after, "rebase") == []
    pushed = snapshot(1, head_sha=sha("p"), base_sha=sha("b"))
    retry = step(after.state, observe(pushed), SINGLE)
    assert retry.state.merge_request(1).blocked is False
    assert of_kind(retry, "rebase")


def test_a_red_pipeline_after_rebase_is_a_strike() -> None:
    waiting, new = behind_then_rebased()
    red = snapshot(1, head_sha=new, head_pipeline=pipeline(new, "failed", 9))
    after = step(waiting.state, observe(red), SINGLE)
    mr = after.state.merge_request(1)
    assert (mr.strikes, mr.phase) == (1, Phase.NOT_READY)
    (comment,) = of_kind(after, "post_comment")
    assert "pipeline #9 failed" in comment.body
    assert of_kind(after, "merge_mr") == []


def test_a_push_by_the_author_during_the_attempt_stops_it() -> None:
    waiting, _ = behind_then_rebased()
    pushed = snapshot(1, head_sha=sha("p"), head_pipeline=pipeline(sha("p"), "running", 3))
    after = step(waiting.state, observe(pushed), SINGLE)
    assert all(not attempt.active for attempt in after.state.attempts)
    mr = after.state.merge_request(1)
    assert (mr.author_sha, mr.phase) == (sha("p"), Phase.WAITING)


def test_a_worker_dying_right_after_merging_still_records_our_merge() -> None:
    started = step(empty_state(), observe(snapshot(1)), SINGLE)
    merging = step(started.state, observe(snapshot(1)), SINGLE)
    assert of_kind(merging, "merge_mr")
    # The merge went through, the new state was lost: re-decide from the stored one.
    replay = step(started.state, observe(snapshot(1, state="merged")), SINGLE)
    assert [h.event for h in of_kind(replay, "record_history")] == ["merged"]
    (comment,) = of_kind(replay, "post_comment")
    assert comment.template == "merged_single"
