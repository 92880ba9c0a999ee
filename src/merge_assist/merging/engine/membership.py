"""Recognition (bot is assignee or reviewer) and leaving the queue (unassigned, closed, merged
by hand, retargeted), plus following each MR's head: the author's pushes vs the bot's rebases."""

from __future__ import annotations

from merge_assist.merging.engine.actions import Unassign
from merge_assist.merging.engine.labels import NO_LABELS, REJECTED
from merge_assist.merging.engine.lifecycle import attempt_of, forget, release, set_labels
from merge_assist.merging.engine.observations import MergeRequestSnapshot, RebaseResult
from merge_assist.merging.engine.state import MAX_REMEMBERED_BOT_SHAS, Phase, QueuedMergeRequest
from merge_assist.merging.engine.step import Step


def reconcile(step: Step) -> None:
    """Bring the queue's membership in line with what GitLab shows."""
    _note_bot_heads(step)
    _follow_rejected(step)
    for mr in list(step.mrs.values()):
        _follow(step, mr)
    for snapshot in step.observations.merge_requests:
        _recognise(step, snapshot)


def _note_bot_heads(step: Step) -> None:
    """Heads produced by our rebases are not author pushes."""
    for result in step.results(RebaseResult):
        mr = step.mrs.get(result.iid)
        if mr is None or result.status != "done" or not result.new_sha:
            continue
        if result.new_sha != mr.author_sha and result.new_sha not in mr.bot_shas:
            shas = (*mr.bot_shas, result.new_sha)[-MAX_REMEMBERED_BOT_SHAS:]
            step.update_mr(result.iid, bot_shas=shas)


def _follow_rejected(step: Step) -> None:
    """A rejected MR stays out until we see the bot unassigned (then a new assignment counts)."""
    still_assigned = []
    for iid in step.rejected:
        snapshot = step.snapshots.get(iid)
        if snapshot is not None and _belongs(step, snapshot):
            still_assigned.append(iid)
            step.emit(Unassign(iid=iid))
    step.rejected = still_assigned


def _belongs(step: Step, snapshot: MergeRequestSnapshot) -> bool:
    return (
        snapshot.state == "opened"
        and snapshot.recognised
        and snapshot.target_branch == step.target_branch
    )


def _follow(step: Step, mr: QueuedMergeRequest) -> None:
    snapshot = step.snapshots.get(mr.iid)
    if snapshot is None:
        step.note(f"no snapshot of !{mr.iid}: left as it was")
        return
    if snapshot.target_branch != step.target_branch:
        # The queue of the new target branch takes it over, labels included.
        forget(step, mr.iid, f"was retargeted to {snapshot.target_branch}")
        return
    if mr.phase == Phase.MERGED:
        _follow_merged(step, mr, snapshot)
        return
    if snapshot.state == "merged" and attempt_of(step, mr.iid) is not None:
        return  # the attempt landing it notices its own merge
    if not _belongs(step, snapshot):
        _leave(step, mr.iid, _why_left(snapshot))
        return
    _follow_head(step, mr, snapshot)


def _follow_merged(step: Step, mr: QueuedMergeRequest, snapshot: MergeRequestSnapshot) -> None:
    """An MR we landed: gone once GitLab agrees, back to waiting if pushed to meanwhile."""
    if not _belongs(step, snapshot) or snapshot.state == "merged":
        step.mrs.pop(mr.iid, None)  # GitLab agrees it is merged: done
    elif snapshot.head_sha not in (mr.head_sha, *mr.bot_shas):
        # Pushed again while we were landing: the new commits need their own turn.
        step.update_mr(
            mr.iid,
            head_sha=snapshot.head_sha,
            author_sha=snapshot.head_sha,
            bot_shas=(),
            phase=Phase.WAITING,
        )


def _follow_head(step: Step, mr: QueuedMergeRequest, snapshot: MergeRequestSnapshot) -> None:
    """Take the MR's priority and head; an author's push (not our rebase) releases it."""
    changes: dict[str, object] = {}
    if snapshot.priority != mr.priority:
        changes["priority"] = snapshot.priority
    if snapshot.head_sha != mr.head_sha:
        changes["head_sha"] = snapshot.head_sha
        if snapshot.head_sha not in mr.bot_shas:
            changes.update(author_sha=snapshot.head_sha, bot_shas=())
    if changes:
        step.update_mr(mr.iid, **changes)
    if "author_sha" in changes:
        release(step, mr.iid, "received a new push")


def _why_left(snapshot: MergeRequestSnapshot) -> str:
    if snapshot.state == "merged":
        return "was merged outside the queue"
    if snapshot.state != "opened":
        return f"was {snapshot.state}"
    return "no longer has the bot as assignee or reviewer"


def _leave(step: Step, iid: int, reason: str) -> None:
    mr = step.mrs[iid]
    snapshot = step.snapshots.get(iid)
    # A Rejected label present here was put by a rejection whose new state was lost: keep it.
    rejected = step.config.labels.rejected
    keep = REJECTED if snapshot is not None and rejected in snapshot.labels else NO_LABELS
    set_labels(step, iid, keep)
    if keep == REJECTED and snapshot is not None and snapshot.state == "opened":
        # Our own rejection unassigned it: record the rejection (same key as the lost step's).
        step.history("rejected", (iid,), f"rejected:{iid}:{mr.author_sha}", reasons=reason)
    else:
        step.history("removed", (iid,), f"removed:{iid}:{mr.head_sha}:{step.steps}", reason=reason)
    forget(step, iid, reason)


def _recognise(step: Step, snapshot: MergeRequestSnapshot) -> None:
    if snapshot.iid in step.mrs or snapshot.iid in step.rejected or not _belongs(step, snapshot):
        return
    if _is_batch_mr(step, snapshot):
        return
    step.mrs[snapshot.iid] = QueuedMergeRequest(
        iid=snapshot.iid,
        priority=snapshot.priority,
        recognised_at=step.now,
        head_sha=snapshot.head_sha,
        author_sha=snapshot.head_sha,
    )
    step.history(
        "recognised", (snapshot.iid,), f"recognised:{snapshot.iid}:{snapshot.head_sha}:{step.steps}"
    )


def _is_batch_mr(step: Step, snapshot: MergeRequestSnapshot) -> bool:
    prefixes = tuple(
        p.rstrip("/") + "/"
        for p in (step.config.batch_branch_prefix, step.config.train_branch_prefix)
    )
    return step.config.labels.batch_mr in snapshot.labels or snapshot.source_branch.startswith(
        prefixes
    )
