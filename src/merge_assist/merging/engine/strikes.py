"""Strikes (terminal failures, one per author push) and rejection after ``max_rejections``."""

from __future__ import annotations

from merge_assist.merging.engine.actions import Unassign
from merge_assist.merging.engine.labels import REJECTED
from merge_assist.merging.engine.lifecycle import forget, set_labels
from merge_assist.merging.engine.state import Phase
from merge_assist.merging.engine.step import Step


def strike(
    step: Step,
    iid: int,
    *,
    template: str,
    summary: str,
    block: bool,
    discriminator: str = "",
    **params: str,
) -> None:
    """Count a terminal failure of ``iid`` and tell its author.

    At most one strike per author sha: the bot's own rebases do not earn more. ``block``
    keeps the queue from retrying the same code until the author pushes (a batch culprit or
    a conflict would only fail again). The last strike rejects the MR.
    """
    mr = step.mrs.get(iid)
    if mr is None:
        return
    counted = mr.last_strike_sha != mr.author_sha
    strikes = mr.strikes + 1 if counted else mr.strikes
    mr = step.update_mr(
        iid,
        strikes=strikes,
        last_strike_sha=mr.author_sha,
        blocked_sha=mr.author_sha if block else mr.blocked_sha,
        phase=Phase.NOT_READY,
    )
    if counted:
        step.history(
            "struck",
            (iid,),
            f"strike:{iid}:{mr.author_sha}",
            cause=template,
            strikes=str(strikes),
            reasons=summary,  # what failed, for "Failures by reason" and the history
        )
    limit = step.config.max_rejections
    if counted and strikes >= limit:
        reject(step, iid, summary)
        return
    step.comment(
        iid,
        template,
        mr.head_sha,
        discriminator,
        attempt=str(strikes),
        max_attempts=str(limit),
        target_branch=step.target_branch,
        **params,
    )


def reject(step: Step, iid: int, summary: str) -> None:
    """Rejected label, comment, bot unassigned, and the MR forgotten (a new assignment starts
    over from zero strikes)."""
    mr = step.mrs.get(iid)
    if mr is None:
        return
    step.comment(
        iid,
        "rejected",
        mr.head_sha,
        max_attempts=str(step.config.max_rejections),
        reasons=summary,
    )
    set_labels(step, iid, REJECTED)
    step.emit(Unassign(iid=iid))
    step.history("rejected", (iid,), f"rejected:{iid}:{mr.author_sha}", reasons=summary)
    forget(step, iid, "rejected")
    step.rejected.append(iid)
