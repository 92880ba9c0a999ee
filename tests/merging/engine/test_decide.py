"""decide(): recognition, removal, strikes, rejection, and totality on odd input."""

from __future__ import annotations

from datetime import timedelta

from merge_assist.merging.engine.actions import Wait
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.decide import decide
from merge_assist.merging.engine.observations import Observations, RebaseResult
from merge_assist.merging.engine.state import Phase, TargetQueueState
from tests.merging.engine.factories import (
    NOW,
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

WAITING_CONFIG = EngineConfig(strategy="single", pipeline_retries=0)
RECOGNISED = "Merge Assist: Recognised for Merge"
NOT_READY = "Merge Assist: Not Ready for Merge"


def red(iid: int, head: str, **changes) -> object:
    return snapshot(iid, head_sha=head, head_pipeline=pipeline(head, "failed", 50), **changes)


def test_recognised_as_assignee_or_reviewer_but_not_otherwise() -> None:
    waiting = {"head_pipeline": pipeline(sha("x"), "running")}
    decision = step(
        empty_state(),
        observe(
            snapshot(1, head_sha=sha("x"), **waiting),
            snapshot(2, bot_is_assignee=False, bot_is_reviewer=True, head_sha=sha("x"), **waiting),
            snapshot(3, bot_is_assignee=False, head_sha=sha("x"), **waiting),
        ),
    )
    assert [mr.iid for mr in decision.state.merge_requests] == [1, 2]
    assert {a.iid for a in of_kind(decision, "add_labels")} == {1, 2}
    assert all(a.labels == (RECOGNISED,) for a in of_kind(decision, "add_labels"))
    recognised = [a for a in of_kind(decision, "record_history") if a.event == "recognised"]
    assert len(recognised) == 2


def test_the_batch_mr_itself_is_never_queued() -> None:
    batch_mr = snapshot(9, source_branch="merge-assist/batch/main/4")
    assert step(empty_state(), observe(batch_mr)).state.merge_requests == ()


def test_unassigning_removes_the_mr_and_cleans_its_labels() -> None:
    first = step(empty_state(), observe(snapshot(1, head_pipeline=None)))
    gone = snapshot(1, head_pipeline=None, bot_is_assignee=False, labels=(RECOGNISED, "ui"))
    decision = step(first.state, observe(gone))
    assert decision.state.merge_requests == ()
    (remove,) = of_kind(decision, "remove_labels")
    assert remove.labels == (RECOGNISED,)
    assert [a.event for a in of_kind(decision, "record_history")] == ["removed"]


def test_closing_or_merging_by_hand_removes_the_mr() -> None:
    for state in ("closed", "merged"):
        first = step(empty_state(), observe(snapshot(1, head_pipeline=None)))
        decision = step(first.state, observe(snapshot(1, state=state, head_pipeline=None)))
        assert decision.state.merge_requests == ()
        (history,) = of_kind(decision, "record_history")
        assert state in dict(history.details)["reason"]


def test_failure_after_ci_is_a_strike_with_a_comment_once_per_sha() -> None:
    head = sha("a")
    decision = step(empty_state(), observe(red(1, head, draft=True)))
    mr = decision.state.merge_request(1)
    assert mr is not None
    assert (mr.strikes, mr.phase) == (1, Phase.NOT_READY)
    (comment,) = of_kind(decision, "post_comment")
    assert "attempt 1/3" in comment.body
    assert "draft" in comment.body
    assert "pipeline #50 failed" in comment.body
    again = step(decision.state, observe(red(1, head, draft=True, labels=(NOT_READY,))))
    assert again.state.merge_request(1).strikes == 1
    assert of_kind(again, "post_comment") == []
    assert kinds(again) == ["wait"]


def test_waiting_never_strikes() -> None:
    head = sha("a")
    mr = snapshot(1, head_sha=head, draft=True, head_pipeline=pipeline(head, "running"))
    decision = step(empty_state(), observe(mr))
    queued = decision.state.merge_request(1)
    assert (queued.strikes, queued.phase) == (0, Phase.NOT_READY)
    assert of_kind(decision, "post_comment") == []


def test_a_new_push_allows_a_new_strike_and_the_last_one_rejects() -> None:
    config = EngineConfig(strategy="single", max_rejections=2, pipeline_retries=0)
    first = step(empty_state(), observe(red(1, sha("a"))), config)
    second = step(first.state, observe(red(1, sha("b"))), config)
    assert second.state.merge_requests == ()
    assert second.state.rejected == (1,)
    assert "unassign" in kinds(second)
    (comment,) = of_kind(second, "post_comment")
    assert "rejected" in comment.body
    assert "2 failed attempts" in comment.body
    (add,) = of_kind(second, "add_labels")
    assert add.labels == ("Merge Assist: Rejected",)
    # Until GitLab shows the bot gone, it is unassigned again and never re-queued.
    still = step(second.state, observe(red(1, sha("b"))), config)
    assert kinds(still) == ["unassign"]
    assert still.state.merge_requests == ()
    # A fresh assignment after that starts over at zero strikes.
    unassigned = step(still.state, observe(red(1, sha("b"), bot_is_assignee=False)), config)
    assert unassigned.state.rejected == ()
    fresh = step(unassigned.state, observe(snapshot(1, head_sha=sha("c"))), config)
    assert fresh.state.merge_request(1).strikes == 0


def test_a_rebase_by_the_bot_is_not_an_author_push() -> None:
    decision = step(empty_state(), observe(snapshot(1, base_sha=sha("old"))))
    (rebase,) = of_kind(decision, "rebase")
    assert (rebase.iid, rebase.onto_sha) == (1, TARGET_SHA)
    rebased = sha("r")
    result = RebaseResult(iid=1, status="done", new_sha=rebased)
    after = step(
        decision.state,
        observe(
            snapshot(1, head_sha=rebased, head_pipeline=pipeline(rebased, "running")),
            results=(result,),
        ),
    )
    mr = after.state.merge_request(1)
    assert (mr.head_sha, mr.author_sha) == (rebased, sha("h1"))
    assert mr.bot_shas == (rebased,)


def test_priority_comes_from_the_snapshot_and_orders_the_queue() -> None:
    config = EngineConfig(strategy="single")
    observations = observe(snapshot(1), snapshot(2, priority=3))
    decision = step(empty_state(), observations, config)
    assert decision.state.merge_request(2).phase == Phase.MERGING
    # The merge itself comes one step later, once the attempt is stored.
    (merge,) = of_kind(step(decision.state, observations, config), "merge_mr")
    assert merge.iid == 2


def test_observations_for_another_queue_give_a_safe_wait() -> None:
    state = empty_state()
    other = Observations(project_id=2, target_branch="main", target_sha="x")
    decision = decide(state, other, WAITING_CONFIG, NOW)
    assert decision.state == state
    (wait,) = decision.actions
    assert isinstance(wait, Wait)
    assert "project 2" in wait.reason
    assert wait.until == NOW + timedelta(seconds=30)


def test_contradictory_snapshots_give_a_safe_wait() -> None:
    decision = decide(
        empty_state(),
        observe(snapshot(1, head_sha=sha("a")), snapshot(1, head_sha=sha("b"))),
        WAITING_CONFIG,
        NOW,
    )
    assert kinds(decision) == ["wait"]
    assert "two different snapshots" in decision.notes[0]


def test_an_unknown_target_head_starts_nothing() -> None:
    decision = step(empty_state(), observe(snapshot(1), target_sha=None))
    assert "merge_mr" not in kinds(decision)
    assert "rebase" not in kinds(decision)
    assert decision.state.merge_request(1).phase == Phase.READY


def test_a_missing_snapshot_leaves_the_mr_alone() -> None:
    first = step(empty_state(), observe(snapshot(1, head_pipeline=None)))
    decision = step(first.state, observe())
    assert decision.state.merge_request(1) is not None
    assert any("no snapshot of !1" in note for note in decision.notes)


def test_state_round_trips_through_json() -> None:
    decision = step(empty_state(), observe(snapshot(1, base_sha=sha("old")), snapshot(2)))
    text = decision.state.to_json()
    assert TargetQueueState.from_json(text) == decision.state
    assert decision.state.attempts  # the single attempt in flight survived the trip


def test_a_ready_mr_without_a_snapshot_is_not_started() -> None:
    first = step(empty_state(), observe(snapshot(1), target_sha=None))
    assert first.state.merge_request(1).phase == Phase.READY
    for strategy in ("single", "batch"):
        decision = step(first.state, observe(), EngineConfig(strategy=strategy))
        assert kinds(decision) == ["wait"]
