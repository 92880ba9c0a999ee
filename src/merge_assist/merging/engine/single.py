"""The single strategy: the first ready MR is rebased if behind, tested at its new head, and
merged with that sha pinned; if the target moves in between, it starts over."""

from __future__ import annotations

from merge_assist.merging.engine.actions import MergeMR, Rebase, RunPipeline
from merge_assist.merging.engine.lifecycle import abort_attempt, mark_landed
from merge_assist.merging.engine.observations import MergeResult, RebaseResult
from merge_assist.merging.engine.ordering import queue_order
from merge_assist.merging.engine.retries import retry_failed
from merge_assist.merging.engine.state import Attempt, AttemptMember, Phase
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.strikes import strike


def progress(step: Step) -> None:
    """Advance the single attempt in flight, if any."""
    for attempt in list(step.attempts.values()):
        if attempt.active and attempt.kind == "single":
            _progress(step, attempt)


def start(step: Step) -> None:
    """Start an attempt on the first ready MR when nothing else is in flight."""
    if step.target_sha is None or step.run is not None:
        return
    if any(attempt.active for attempt in step.attempts.values()):
        return
    ready = [
        mr
        for mr in queue_order(step.mrs.values())
        if mr.phase == Phase.READY and mr.iid in step.snapshots
    ]
    if not ready:
        return
    mr = ready[0]
    snapshot = step.snapshots[mr.iid]
    target = step.target_sha
    behind = snapshot.base_sha != target
    attempt = Attempt(
        id=step.new_id(),
        kind="single",
        members=(AttemptMember(iid=mr.iid, source_sha=mr.head_sha),),
        base_sha=target,
        status="rebasing" if behind else "landing",
        tested_sha=None if behind else mr.head_sha,
        started_at=step.now,
    )
    step.attempts[attempt.id] = attempt
    step.update_mr(mr.iid, phase=Phase.MERGING)
    if behind:
        step.emit(Rebase(iid=mr.iid, expected_head_sha=mr.head_sha, onto_sha=target))
    # An MR up to date is merged by the next step, once this attempt is stored: a worker dying
    # right after merging must find the attempt, or it would take our own merge for a merge
    # by hand (recorded as "removed", no "merged" comment).
    step.busy = True


def _progress(step: Step, attempt: Attempt) -> None:
    iid = attempt.members[0].iid
    if iid not in step.mrs:
        abort_attempt(step, attempt.id, f"!{iid} left the queue")
        return
    if iid not in step.snapshots:
        step.note(f"attempt {attempt.id} waits: no snapshot of !{iid}")
        step.busy = True
        return
    if step.snapshots[iid].state == "merged":
        # Our MergeMR went through but its result was lost (the worker died before storing).
        mark_landed(step, iid, step.target_sha or step.snapshots[iid].head_sha)
        step.update_attempt(attempt.id, status="done")
        return
    if attempt.status == "rebasing":
        attempt = _rebasing(step, attempt, iid)
    if attempt.status == "testing":
        attempt = _testing(step, attempt, iid)
    if attempt.status == "landing":
        _landing(step, attempt, iid)


def _last(results: list[RebaseResult] | list[MergeResult]) -> RebaseResult | MergeResult | None:
    return results[-1] if results else None


def _rebasing(step: Step, attempt: Attempt, iid: int) -> Attempt:
    result = _last([r for r in step.results(RebaseResult) if r.iid == iid])
    step.busy = True
    if result is None:
        member = attempt.members[0]
        step.emit(Rebase(iid=iid, expected_head_sha=member.source_sha, onto_sha=attempt.base_sha))
        return attempt
    assert isinstance(result, RebaseResult)
    if result.status == "in_progress":
        return attempt
    if result.status == "done":
        tested = result.new_sha or step.snapshots[iid].head_sha
        return step.update_attempt(attempt.id, status="testing", tested_sha=tested)
    abort_attempt(step, attempt.id, f"rebase of !{iid} {result.status}")
    if result.status == "conflict":
        strike(
            step,
            iid,
            template="rebase_failed",
            summary=f"- rebasing onto `{step.target_branch}` failed with conflicts",
            block=True,
            reason=result.message or "conflicts",
        )
    else:
        mr = step.mrs[iid]
        step.comment(iid, "error", mr.head_sha, "rebase", reason="the rebase failed")
    return step.attempts[attempt.id]


def _testing(step: Step, attempt: Attempt, iid: int) -> Attempt:
    snapshot = step.snapshots[iid]
    tested = attempt.tested_sha or snapshot.head_sha
    if step.target_sha != attempt.base_sha:
        abort_attempt(step, attempt.id, "the target branch moved; rebasing again")
        return step.attempts[attempt.id]
    if snapshot.head_sha != tested:
        abort_attempt(step, attempt.id, f"the head of !{iid} moved")
        return step.attempts[attempt.id]
    pipeline = step.pipelines.get(tested)
    step.busy = True
    if pipeline is None:
        if tested not in attempt.pipeline_requested:
            step.emit(RunPipeline(attempt_id=attempt.id, ref=snapshot.source_branch, sha=tested))
            attempt = step.update_attempt(
                attempt.id, pipeline_requested=(*attempt.pipeline_requested, tested)
            )
        return attempt
    if pipeline.id not in attempt.pipeline_ids:
        attempt = step.update_attempt(attempt.id, pipeline_ids=(*attempt.pipeline_ids, pipeline.id))
    if pipeline.blocked:
        # It never finishes by itself: validation holds the MR, saying who must act.
        abort_attempt(step, attempt.id, f"pipeline #{pipeline.id} waits for a manual job")
        return step.attempts[attempt.id]
    if pipeline.verdict == "running":
        return attempt
    if pipeline.verdict == "failed":
        if retry_failed(step, pipeline, iids=(iid,), subject=f"!{iid}"):
            return attempt  # a flake is possible: the same pipeline runs again
        # Validation sees the failed head pipeline and strikes (once per author sha).
        step.update_mr(iid, phase=Phase.WAITING)
        return step.update_attempt(attempt.id, status="done")
    step.emit(_merge(step, iid, tested, attempt.base_sha))
    return step.update_attempt(attempt.id, status="landing")


def _landing(step: Step, attempt: Attempt, iid: int) -> None:
    result = _last([r for r in step.results(MergeResult) if r.iid == iid])
    tested = attempt.tested_sha or step.mrs[iid].head_sha
    snapshot = step.snapshots[iid]
    if result is None and snapshot.state == "merged":
        result = MergeResult(iid=iid, status="merged", merge_sha=step.target_sha)
    if result is None:
        step.emit(_merge(step, iid, tested, attempt.base_sha))
        step.busy = True
        return
    assert isinstance(result, MergeResult)
    if result.status == "merged":
        mark_landed(step, iid, result.merge_sha or step.target_sha or tested)
        step.update_attempt(attempt.id, status="done")
        return
    abort_attempt(step, attempt.id, f"merge of !{iid} refused: {result.status}")
    if result.status == "not_mergeable":
        # GitLab sees a reason we do not: do not hammer it; wait for the author's next push.
        mr = step.update_mr(iid, blocked_sha=step.mrs[iid].author_sha)
        step.comment(
            iid,
            "error",
            mr.head_sha,
            "merge",
            reason="GitLab refused the merge" + (f" ({result.message})" if result.message else ""),
        )
    step.busy = True


def _merge(step: Step, iid: int, tested: str, base: str) -> MergeMR:
    """Merge ``iid`` pinned to its tested head, on the target it was tested on."""
    skip = step.config.skip_ci_on_landing
    return MergeMR(iid=iid, sha=tested, expected_target_sha=base, skip_ci=skip)
