"""A head pipeline waiting for a manual job (GitLab's ``manual`` status): the MR is held
with one comment saying who must act, never struck, and goes ahead once the job is played
and the pipeline passes."""

from __future__ import annotations

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import RebaseResult
from merge_assist.merging.engine.state import Phase
from tests.merging.engine.factories import (
    empty_state,
    observe,
    of_kind,
    pipeline,
    sha,
    snapshot,
    step,
)

SINGLE = EngineConfig(strategy="single", max_rejections=1, pipeline_retries=0)


def test_a_manual_head_pipeline_holds_the_mr_until_the_job_is_played_and_passes() -> None:
    head = sha("a")
    blocked = snapshot(1, head_sha=head, head_pipeline=pipeline(head, "manual", 9))
    held = step(empty_state(), observe(blocked), SINGLE)
    queued = held.state.merge_request(1)
    assert queued is not None
    assert (queued.phase, queued.strikes) == (Phase.NOT_READY, 0)
    assert "pipeline #9 waits for a manual job: someone must play it in GitLab" in queued.reasons
    (comment,) = of_kind(held, "post_comment")
    assert comment.template == "manual_job"
    assert "pipeline #9 waits for a manual job" in comment.body
    assert "play it in GitLab" in comment.body
    assert of_kind(held, "unassign") == []  # max_rejections 1, yet not rejected

    again = step(held.state, observe(blocked), SINGLE)
    assert of_kind(again, "post_comment") == []  # said once
    assert again.state.merge_request(1).strikes == 0  # type: ignore[union-attr]

    played = snapshot(1, head_sha=head, head_pipeline=pipeline(head, "running", 9))
    running = step(again.state, observe(played), SINGLE)
    assert running.state.merge_request(1).phase == Phase.WAITING  # type: ignore[union-attr]

    passed = step(running.state, observe(snapshot(1, head_sha=head)), SINGLE)
    assert passed.state.merge_request(1).phase in (Phase.READY, Phase.MERGING)  # type: ignore[union-attr]


def test_an_attempt_whose_pipeline_waits_for_a_manual_job_is_aborted_and_the_mr_held() -> None:
    """The rebased head's pipeline is ``manual``: the attempt stops instead of waiting for
    ever, and validation holds the MR with the comment that says who must act."""
    behind = step(empty_state(), observe(snapshot(1, base_sha=sha("b"))), SINGLE)
    of_kind(behind, "rebase")
    new = sha("n")
    rebased = RebaseResult(iid=1, status="done", new_sha=new)
    fresh = snapshot(1, head_sha=new, head_pipeline=None)
    waiting = step(behind.state, observe(fresh, results=(rebased,)), SINGLE)
    assert of_kind(waiting, "run_pipeline") != []
    blocked = snapshot(1, head_sha=new, head_pipeline=pipeline(new, "manual", 12))
    stopped = step(waiting.state, observe(blocked), SINGLE)
    assert any("pipeline #12 waits for a manual job" in note for note in stopped.notes)
    held = step(stopped.state, observe(blocked), SINGLE)
    decisions = (stopped, held)
    queued = held.state.merge_request(1)
    assert queued is not None
    assert (queued.phase, queued.strikes) == (Phase.NOT_READY, 0)
    comments = [c for d in decisions for c in of_kind(d, "post_comment")]
    assert [c.template for c in comments] == ["manual_job"]
    assert all(of_kind(d, "merge_mr") == [] and of_kind(d, "rebase") == [] for d in decisions)
