"""Turning the facts about one MR into its explanation (pure: no database, no GitLab).

``gather`` collects the facts; ``explain`` says, in plain words, every reason the MR is not
merging, what it waits for and since when, its strikes, its batch and culprit, the failing
jobs' telling log lines, and what its author should do next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from merge_assist.assistant.schemas import (
    ExplainedBatch,
    ExplainedReason,
    ExplainedStrike,
    Explanation,
    FailingJob,
)
from merge_assist.assistant.wording import classify, log_excerpt, strike_text, wording
from merge_assist.merging.schemas import BatchOut, HistoryOut, MergeRequestOut


@dataclass(frozen=True)
class LiveReason:
    """A reason the engine's validation gives on what GitLab says now."""

    code: str
    message: str


@dataclass(frozen=True)
class JobFacts:
    """A failed job and its log (the trace's end)."""

    id: int
    name: str
    stage: str | None
    web_url: str | None
    failure_reason: str | None
    trace: str


@dataclass(frozen=True)
class MergeRequestFacts:
    """Everything the explanation is built from."""

    mr: MergeRequestOut
    reference: str
    max_strikes: int
    history: Sequence[HistoryOut] = ()
    batch: BatchOut | None = None
    live: Sequence[LiveReason] | None = None  # None: GitLab was not asked (or not reachable)
    jobs: Sequence[JobFacts] = ()
    notes: Sequence[str] = field(default_factory=tuple)


CULPRIT_FIX = (
    "Its changes broke the batch pipeline: run the pipeline on your branch, fix what fails and push"
)
_SUMMARIES = {
    "waiting": "It is queued and waits for something that resolves by itself.",
    "ready": "It passes every check and waits for its turn to merge.",
    "not_ready": "It is queued but cannot merge until the reasons below are fixed.",
    "merging": "The queue is merging it now.",
    "in_batch": "It is being tested in a batch with other merge requests.",
    "merged": "It has been merged.",
    "rejected": "The queue rejected it after too many failed attempts and let it go.",
    "removed": "It left the queue (the bot was unassigned, or it was closed or retargeted).",
}


def explain(facts: MergeRequestFacts) -> Explanation:
    """The explanation of ``facts.mr``."""
    mr = facts.mr
    reasons = _reasons(facts)
    strikes = _strikes(facts.history)
    batch = _batch(facts)
    jobs = [_failing_job(job) for job in facts.jobs]
    return Explanation(
        mr_id=mr.id,
        project_id=mr.project_id,
        reference=facts.reference,
        title=mr.title,
        web_url=mr.web_url,
        queue_state=mr.queue_state,
        summary=_SUMMARIES.get(mr.queue_state, f"Its queue state is {mr.queue_state}."),
        since=_since(mr, facts.history),
        waiting_for=[reason.text for reason in reasons if reason.waiting],
        reasons=reasons,
        strikes=mr.strikes,
        max_strikes=facts.max_strikes,
        strike_history=strikes,
        batch=batch,
        failing_jobs=jobs,
        next_step=next_step(mr, reasons, batch, jobs),
        notes=list(facts.notes),
    )


def _reasons(facts: MergeRequestFacts) -> list[ExplainedReason]:
    """The stored reasons, then what GitLab shows now that the queue has not stored."""
    found = [_reason(classify(message), message, "queue") for message in facts.mr.reasons]
    known = {reason.code for reason in found}
    if facts.mr.queue_state not in ("merged", "removed"):
        for live in facts.live or ():
            if live.code not in known:
                found.append(_reason(live.code, live.message, "gitlab"))
                known.add(live.code)
    return found


def _reason(code: str, detail: str, source: str) -> ExplainedReason:
    words = wording(code)
    return ExplainedReason(
        code=code,
        text=words.text,
        detail=detail,
        waiting=words.waiting,
        held=words.held,
        fix=words.fix,
        source="gitlab" if source == "gitlab" else "queue",
    )


def _strikes(history: Sequence[HistoryOut]) -> list[ExplainedStrike]:
    strikes = []
    for entry in history:
        if entry.event != "struck":
            continue
        cause = str(entry.details.get("cause", ""))
        count = str(entry.details.get("strikes", ""))
        strikes.append(
            ExplainedStrike(
                at=entry.created_at,
                cause=cause,
                text=strike_text(cause),
                strikes=int(count) if count.isdigit() else None,
            )
        )
    return strikes


def _batch(facts: MergeRequestFacts) -> ExplainedBatch | None:
    batch = facts.batch
    if batch is None:
        return None
    iid = facts.mr.iid
    named_culprit = any(
        entry.event == "culprit" and iid in entry.iids and entry.created_at >= batch.started_at
        for entry in facts.history
    )
    return ExplainedBatch(
        id=batch.id,
        status=batch.status,
        members=batch.member_iids,
        landed=batch.landed_iids,
        culprits=batch.culprit_iids,
        is_culprit=iid in batch.culprit_iids or named_culprit,
        pipeline_id=batch.pipeline_id,
        pipeline_status=batch.pipeline_status,
        batch_mr_url=batch.batch_mr_url,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
    )


def _failing_job(job: JobFacts) -> FailingJob:
    return FailingJob(
        id=job.id,
        name=job.name,
        stage=job.stage,
        web_url=job.web_url,
        failure_reason=job.failure_reason,
        excerpt=log_excerpt(job.trace),
    )


def _since(mr: MergeRequestOut, history: Sequence[HistoryOut]) -> datetime | None:
    """Since when the MR is in its state: rejected, merged, last struck, or recognised."""
    if mr.queue_state == "rejected" and mr.rejected_at is not None:
        return mr.rejected_at
    if mr.queue_state == "merged" and mr.merged_at is not None:
        return mr.merged_at
    if mr.queue_state == "not_ready":
        struck = [entry.created_at for entry in history if entry.event == "struck"]
        if struck:
            return struck[-1]
    return mr.recognised_at or mr.updated_at


def next_step(
    mr: MergeRequestOut,
    reasons: Sequence[ExplainedReason],
    batch: ExplainedBatch | None,
    jobs: Sequence[FailingJob],
) -> str:
    """What the author should do next, as one sentence."""
    if mr.queue_state == "merged":
        return "Nothing: it is merged."
    fixes = [reason for reason in reasons if not reason.waiting and not reason.held]
    first = _first_fix(fixes, batch, jobs)
    if mr.queue_state in ("rejected", "removed"):
        requeue = "then assign the bot again to queue it anew."
        return f"{first.rstrip('.')}, {requeue}" if first else requeue.capitalize()
    if first:
        return first
    held = [reason for reason in reasons if reason.held]
    if held:
        return held[0].fix
    if reasons:
        return f"Nothing to do but wait: {reasons[0].text}"
    return "Nothing: it is in the queue's hands."


def _first_fix(
    fixes: Sequence[ExplainedReason], batch: ExplainedBatch | None, jobs: Sequence[FailingJob]
) -> str:
    """Every fix in one sentence: the batch culprit or the failing jobs first, then the rest
    (without the reasons that lead already covers)."""
    lead = None
    if batch is not None and batch.is_culprit:
        lead = CULPRIT_FIX
    elif jobs:
        names = ", ".join(job.name for job in jobs[:3])
        subject = f"jobs ({names}) report" if len(jobs) > 1 else f"job ({names}) reports"
        lead = f"Fix what the failing {subject} and push"
    covered = _COVERED_BY_LEAD if lead else frozenset()
    parts = [lead] if lead else []
    parts += _one_fix_per_kind([fix for fix in fixes if fix.code not in covered])
    parts = list(dict.fromkeys(parts))
    if not parts:
        return ""
    return "; ".join([parts[0]] + [part[0].lower() + part[1:] for part in parts[1:]]) + "."


def _one_fix_per_kind(fixes: Sequence[ExplainedReason]) -> list[str]:
    """The fixes, one per kind: of the conflicts, GitLab's plain one wins where present."""
    chosen: dict[str, ExplainedReason] = {}
    for fix in fixes:
        kind = _KINDS.get(fix.code, fix.code)
        if kind not in chosen or fix.code == kind:
            chosen[kind] = fix
    return [fix.fix.rstrip(".") for fix in chosen.values()]


# Reasons one fix answers: every conflict is solved by rebasing and pushing.
_KINDS = {"batch_conflict": "conflicts", "rebase_failed": "conflicts"}
# What "fix what fails and push" already says.
_COVERED_BY_LEAD = frozenset({"pipeline_failed", "batch_failed", "blocked"})
