"""Leaving the queue and stopping attempts: the moves every rule shares."""

from __future__ import annotations

from merge_assist.merging.engine import bisect
from merge_assist.merging.engine.actions import (
    AddLabels,
    CancelPipeline,
    DeleteBranch,
    RemoveLabels,
)
from merge_assist.merging.engine.config import LabelKey
from merge_assist.merging.engine.labels import label_changes, labels_for
from merge_assist.merging.engine.state import MAX_CANCEL_STEPS, Attempt, PendingCancel, Phase
from merge_assist.merging.engine.step import Step


def attempt_of(step: Step, iid: int) -> int | None:
    """The id of the active attempt ``iid`` belongs to, if any."""
    for attempt in step.attempts.values():
        if attempt.active and not attempt.probe and attempt.member(iid) is not None:
            return attempt.id
    return None


def abort_attempt(step: Step, attempt_id: int, reason: str) -> None:
    """Stop an attempt; its members go back to validation; its branch is deleted."""
    attempt = step.attempts.get(attempt_id)
    if attempt is None or not attempt.active:
        return
    step.update_attempt(attempt_id, status="aborted")
    step.note(f"attempt {attempt_id} aborted: {reason}")
    if attempt.branch is not None:
        cancel_pipeline(step, attempt)
        step.emit(DeleteBranch(branch=attempt.branch))
    for member in attempt.members:
        mr = step.mrs.get(member.iid)
        if mr is not None and mr.phase == Phase.MERGING and not attempt.probe:
            step.update_mr(member.iid, phase=Phase.WAITING)
    if step.run is not None and step.run.attempt_id == attempt_id:
        step.run = step.run.model_copy(update={"attempt_id": None})


def cancel_pipeline(step: Step, attempt: Attempt) -> None:
    """The stopped attempt's pipeline on its own branch still runs: cancel it (unless another
    attempt in flight tests the very same tree)."""
    sha = attempt.tested_sha
    if sha is None:
        return
    pipeline = step.pipelines.get(sha)
    if pipeline is not None and pipeline.verdict != "running":
        return
    others = (a for a in step.attempts.values() if a.id != attempt.id and a.active)
    if any(other.tested_sha == sha for other in others):
        return
    if pipeline is None:  # pushed, not seen yet: GitLab may create it a moment later
        step.emit(CancelPipeline(sha=sha, ref=attempt.branch))
        pending = PendingCancel(sha=sha, ref=attempt.branch, since_step=step.steps)
        step.pending_cancels = [p for p in step.pending_cancels if p.sha != sha] + [pending]
        return
    step.emit(CancelPipeline(pipeline_id=pipeline.id, sha=pipeline.sha))


def follow_cancels(step: Step) -> None:
    """Cancel the pipelines of stopped attempts that GitLab shows only now (created a moment
    after the attempt's push); forget those finished, or not seen within a while."""
    active = {a.tested_sha for a in step.attempts.values() if a.active}
    kept = []
    for pending in step.pending_cancels:
        pipeline = step.pipelines.get(pending.sha)
        if pending.sha in active or step.steps - pending.since_step > MAX_CANCEL_STEPS:
            continue  # tested again by an attempt in flight, or never created
        if pipeline is None:
            kept.append(pending)
        elif pipeline.verdict == "running":
            step.emit(CancelPipeline(pipeline_id=pipeline.id, sha=pipeline.sha))
    step.pending_cancels = kept


def release(step: Step, iid: int, reason: str) -> None:
    """Take ``iid`` out of whatever attempt and batch run it is in (it stays queued)."""
    run = step.run
    if run is not None and run.round_ids and iid in run.bisect.pending:
        # Its round of side-by-side trials tests a set that no longer exists: stop them all.
        for round_attempt in run.round_ids:
            abort_attempt(step, round_attempt, f"!{iid} {reason}")
        step.run = run.model_copy(update={"round_ids": (), "round_outcomes": ()})
    attempt_id = attempt_of(step, iid)
    if attempt_id is not None and step.attempts[attempt_id].status == "landing":
        # The landing may already have happened: let it finish; the MR is followed after.
        step.note(f"!{iid} {reason} while landing; the landing goes on")
        return
    if attempt_id is not None:
        abort_attempt(step, attempt_id, f"!{iid} {reason}")
    if step.run is not None:
        step.run = step.run.model_copy(update={"bisect": bisect.drop(step.run.bisect, iid)})


def forget(step: Step, iid: int, reason: str) -> None:
    """Remove ``iid`` from the queue entirely."""
    release(step, iid, reason)
    step.mrs.pop(iid, None)
    step.note(f"!{iid} left the queue: {reason}")


def set_labels(step: Step, iid: int, desired: tuple[LabelKey, ...]) -> None:
    """Make the MR's bot labels exactly ``desired`` (from its last snapshot)."""
    snapshot = step.snapshots.get(iid)
    mr = step.mrs.get(iid)
    if snapshot is not None:
        present: tuple[str, ...] = snapshot.labels
    elif mr is not None:
        present = tuple(step.config.labels.name(key) for key in mr.labels_applied)
    else:
        return
    add, remove = label_changes(present, desired, step.config.labels)
    if add:
        step.emit(AddLabels(iid=iid, labels=add, remove=remove))
    elif remove:
        step.emit(RemoveLabels(iid=iid, labels=remove))
    if mr is not None:
        step.update_mr(iid, labels_applied=desired)


def sync_labels(step: Step) -> None:
    """Every queued MR carries the labels of its phase."""
    for iid, mr in list(step.mrs.items()):
        if step.snapshots.get(iid) is None and mr.labels_applied == labels_for(mr.phase):
            continue
        set_labels(step, iid, labels_for(mr.phase))


def mark_landed(
    step: Step, iid: int, sha: str, batch_name: str | None = None, members: str = ""
) -> None:
    """Our merge of ``iid`` succeeded: comment, clean labels, record; keep until GitLab agrees."""
    mr = step.mrs.get(iid)
    if mr is None or mr.phase == Phase.MERGED:
        return
    step.update_mr(iid, phase=Phase.MERGED)
    if batch_name is not None:
        step.comment(
            iid,
            "merged_batch",
            mr.head_sha,
            target_branch=step.target_branch,
            sha=sha[:12],
            batch=batch_name,
            members=members,
        )
    else:
        step.comment(
            iid, "merged_single", mr.head_sha, target_branch=step.target_branch, sha=sha[:12]
        )
    step.history("merged", (iid,), f"merged:{iid}:{mr.head_sha}", sha=sha)
