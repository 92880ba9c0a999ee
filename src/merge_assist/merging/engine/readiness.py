"""Validating the queue each step: phases, reasons, and strikes for final failures."""

from __future__ import annotations

import hashlib

from merge_assist.merging.engine.comments import bullet_list
from merge_assist.merging.engine.lifecycle import attempt_of, release
from merge_assist.merging.engine.observations import Pipeline
from merge_assist.merging.engine.retries import retry_failed, retry_reason
from merge_assist.merging.engine.state import Phase
from merge_assist.merging.engine.step import Step
from merge_assist.merging.engine.strikes import strike
from merge_assist.merging.engine.validation import (
    MANUAL_JOB,
    Reason,
    Verdict,
    head_pipeline_of,
    validate,
)

BLOCKED_REASON = "the last attempt failed; the queue tries again after a new push"


def engaged(step: Step, iid: int) -> bool:
    """``iid`` is inside an attempt, a batch run or the train's suspects (the engine is
    testing it)."""
    if attempt_of(step, iid) is not None or iid in step.train.suspected():
        return True
    probes = (step.attempts.get(probe_id) for probe_id in step.train.probes)
    if any(p is not None and p.active and p.member(iid) is not None for p in probes):
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
    elif verdict.status == "failing" and _retrying(step, iid, verdict):
        pass  # a flake is possible: the head pipeline runs again before anything is struck
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
        retried = _head_pipeline(step, iid)
        note = retry_reason(step, retried) if retried is not None else None
        step.update_mr(iid, phase=Phase.WAITING, reasons=(*reasons, note) if note else reasons)
    else:
        step.update_mr(iid, phase=Phase.READY, reasons=())


def _head_pipeline(step: Step, iid: int) -> Pipeline | None:
    """The pipeline of the MR's current head, as validation reads it."""
    return head_pipeline_of(step.snapshots[iid], step.pipelines)


def _retrying(step: Step, iid: int, verdict: Verdict) -> bool:
    """The MR fails only because its head pipeline failed (what else fails is nobody's fault
    in it): retry that pipeline before striking, and keep the MR waiting while it runs."""
    failing = verdict.failing_reasons
    if not verdict.ci_finished or step.mrs[iid].blocked:
        return False
    if not any(r.code == "pipeline_failed" for r in failing):
        return False
    if not all(r.code == "pipeline_failed" or r.held for r in failing):
        return False
    pipeline = _head_pipeline(step, iid)
    if pipeline is None or not retry_failed(step, pipeline, iids=(iid,), subject=f"!{iid}"):
        return False
    note = retry_reason(step, pipeline) or ""
    kept = tuple(r.message for r in verdict.reasons if r.code != "pipeline_failed")
    step.update_mr(iid, phase=Phase.WAITING, reasons=(*kept, note))
    return True


def _hold(step: Step, iid: int, verdict: Verdict, reasons: tuple[str, ...]) -> None:
    """Not ready until someone else acts (a vault check-in, a manual job to play): say so
    once, never strike."""
    mr = step.update_mr(iid, phase=Phase.NOT_READY, reasons=reasons)
    manual = [r for r in verdict.failing_reasons if r.code == MANUAL_JOB]
    locked = [r for r in verdict.failing_reasons if r.code != MANUAL_JOB]
    for template, held in (("manual_job", manual), ("held", locked)):
        if held:
            _say_held(step, iid, mr.head_sha, template, held)


def _say_held(step: Step, iid: int, head_sha: str, template: str, held: list[Reason]) -> None:
    messages = [reason.message for reason in held]
    step.comment(
        iid,
        template,
        head_sha,
        hashlib.sha256("\n".join(messages).encode()).hexdigest()[:8],
        reasons=bullet_list(messages),
    )
