"""API shape of ``GET /api/mrs/{id}/explanation``: why an MR is not merging, in plain words.

Built without any AI from what the queue stored (state, reasons, strikes, history, batches)
and what GitLab says now (the MR, its approvals, the failing jobs and their logs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

ReasonSource = Literal["queue", "gitlab"]


class ExplainedReason(BaseModel):
    """One reason the MR cannot merge: the engine's code, plain words, what fixes it."""

    code: str  # the engine's validation code (draft, conflicts, ...) or a strike cause
    text: str  # plain words for the author
    detail: str  # the queue's or GitLab's own wording
    waiting: bool  # resolves by itself (a running pipeline, GitLab checking)
    held: bool  # nobody's fault in the MR (a vault check-out by someone else)
    fix: str  # what resolves it
    source: ReasonSource  # stored by the queue, or seen on GitLab now


class ExplainedStrike(BaseModel):
    """A strike the MR earned: when, why, and the count after it."""

    at: datetime
    cause: str  # the comment template: not_ready, rebase_failed, batch_conflict, batch_failed
    text: str
    strikes: int | None


class ExplainedBatch(BaseModel):
    """The latest batch the MR was in, and whether the bisection found it guilty."""

    id: int
    status: str
    members: list[int]
    landed: list[int]
    culprits: list[int]
    is_culprit: bool
    pipeline_id: int | None
    pipeline_status: str | None
    batch_mr_url: str | None
    started_at: datetime
    finished_at: datetime | None


class FailingJob(BaseModel):
    """A failed job of the MR's pipeline and the lines of its log that say why."""

    id: int
    name: str
    stage: str | None
    web_url: str | None
    failure_reason: str | None
    excerpt: list[str]


class Explanation(BaseModel):
    """``GET /api/mrs/{id}/explanation``: the MR's situation and what its author should do."""

    mr_id: int
    project_id: int
    reference: str  # ``group/app!12``
    title: str
    web_url: str | None
    queue_state: str
    summary: str  # one sentence: where the MR stands
    since: datetime | None  # since when it is in this state (as far as the queue knows)
    waiting_for: list[str]  # what resolves by itself (pipeline running, GitLab checking)
    reasons: list[ExplainedReason]
    strikes: int
    max_strikes: int
    strike_history: list[ExplainedStrike]
    batch: ExplainedBatch | None
    failing_jobs: list[FailingJob]
    next_step: str  # what the author should do next, as one sentence
    notes: list[str]  # what could not be checked (GitLab unreachable, ...)
