"""Validating the queue each step: phases, reasons, and strikes for final failures."""

from __future__ import annotations

import hashlib

from merge_assist.merging.engine.comments import bullet_list
from merge_assist.merging.engine.lifecycle import attempt_of, release
from merge_assist.merging.engine.state import Phase
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.strikes import strike
from merge_assist.merging.engine.validation import Verdict, validate

BLOCKED_REASON = "the last attempt failed; the queue tries again after a new push"


def engaged(step: Step, iid: int) -> bool:
    """``iid`` is inside an attempt or a batch run (the engine is testing it)."""
    if attempt_of(step, iid) is not None:
        return True
    return step.run is not None and iid in step.run.bisect.pending


def assess(step: Step) -> None:
    """Validate every queued MR and set its phase; strike final failures."""
    for iid, mr in list(step.mrs.items()):
        snapshot = step.snapshots.get(iid)
        if mr.phase == Phase.MERGED or snapshot is None:
            continue
        if snapshot.state != "opened":
            continue  # merged or closed during this step: membership settles it next step
        busy = engaged(step, iid)
        verdict = validate(
            snapshot,
            target_branch=step.target_branch,
            config=step.config,
            locks=step.observations.locks,
            pipelines=step.pipelines,
            include_ci=not busy,
        )
        reasons = tuple(reason.message for reason in verdict.reasons)
        if busy:
            if verdict.status == "failing":
                release(step, iid, "no longer passes validation")
                step.update_mr(iid, phase=Phase.NOT_READY, reasons=reasons)
            else:
                step.update_mr(iid, reasons=reasons)
            continue
        _settle(step, iid, verdict, reasons)


def _settle(step: Step, iid: int, verdict: Verdict, reasons: tuple[str, ...]) -> None:
    mr = step.mrs[iid]
    if verdict.status == "failing" and verdict.only_held:
        _hold(step, iid, verdict, reasons)
    elif verdict.status == "failing":
        step.update_mr(iid, phase=Phase.NOT_READY, reasons=reasons)
        if verdict.ci_finished:
            failing = [reason.message for reason in verdict.failing_reasons]
            codes = ",".join(sorted(reason.code for reason in verdict.failing_reasons))
            strike(
                step,
                iid,
                template="not_ready",
                summary=bullet_list(failing),
                block=False,
                discriminator=hashlib.sha256(codes.encode()).hexdigest()[:8],
                reasons=bullet_list(failing),
            )
    elif mr.blocked:
        step.update_mr(iid, phase=Phase.NOT_READY, reasons=(*reasons, BLOCKED_REASON))
    elif verdict.status == "waiting":
        step.update_mr(iid, phase=Phase.WAITING, reasons=reasons)
    else:
        step.update_mr(iid, phase=Phase.READY, reasons=())


def _hold(step: Step, iid: int, verdict: Verdict, reasons: tuple[str, ...]) -> None:
    """Not ready until someone else acts (a vault check-in): say so once, never strike."""
    mr = step.update_mr(iid, phase=Phase.NOT_READY, reasons=reasons)
    held = [reason.message for reason in verdict.failing_reasons]
    step.comment(
        iid,
        "held",
        mr.head_sha,
        hashlib.sha256("\n".join(held).encode()).hexdigest()[:8],
        reasons=bullet_list(held),
    )
