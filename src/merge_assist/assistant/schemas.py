"""API shape of ``GET /api/mrs/{id}/explanation``: why an MR is not merging, in plain words.

Built without any AI from what the queue stored (state, reasons, strikes, history, batches)
and what GitLab says now (the MR, its approvals, the failing jobs and their logs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ReasonSource = Literal["queue", "gitlab"]
AiOutcome = Literal[
    "ok",
    "disabled",
    "not_opted_in",
    "budget_exhausted",
    "timeout",
    "refused",
    "failed",
    "bad_answer",
    "unreachable",
]


class ExplainedReason(BaseModel):
    """One reason the MR cannot merge: the engine's code, plain words, what fixes it."""

    code: str  # the engine's validation code (draft, conflicts, ...) or a strike cause
    text: str  # plain words for the author
    detail: str  # the queue's or GitLab's own wording
    waiting: bool  # resolves by itself (a running pipeline, GitLab checking)
    held: bool  # nobody's fault in the MR (a vault check-out by someone else, a manual job)
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
    ai_summary: AiSummary | None = None  # None: not asked (the CLI without --ai, a comment)


class AiSummary(BaseModel):
    """The AI's advisory summary of the explanation, or why there is none (``outcome``).

    Advisory only: it never changes the queue. On any failure ``text`` is None and ``note``
    says why in a short sentence; the plain diagnosis above stands on its own.
    """

    outcome: AiOutcome
    text: str | None = None
    model: str | None = None
    note: str | None = None


class AssistantUsage(BaseModel):
    """AI calls and tokens used today (UTC), against the daily budget."""

    calls: int
    tokens: int


class AssistantSettingsOut(BaseModel):
    """``GET /api/assistant/settings``: how the AI summary is reached (never the API key)."""

    enabled: bool
    base_url: str
    model: str
    api_key_set: bool  # whether the secret ``assistant-api-key`` holds a key
    api_key_writable: bool  # whether the secrets provider can store one from here
    send_titles: bool
    send_file_names: bool
    send_log_excerpts: bool
    timeout_seconds: int
    max_request_chars: int
    daily_call_limit: int | None  # None: no limit
    daily_token_limit: int | None  # None: no limit
    usage_today: AssistantUsage
    updated_at: datetime | None
    updated_by: str | None


class AssistantSettingsChanges(BaseModel):
    """``PUT /api/assistant/settings``: fields to change; absent fields keep their value.

    ``api_key`` is write-only (stored in the secrets provider, never shown again);
    ``clear_api_key`` removes it. Ranges are checked by ``ai_settings.AiSettings``.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    base_url: str | None = Field(default=None, max_length=1024)
    model: str | None = Field(default=None, max_length=255)
    api_key: str | None = Field(default=None, max_length=4096)
    clear_api_key: bool = False
    send_titles: bool | None = None
    send_file_names: bool | None = None
    send_log_excerpts: bool | None = None
    timeout_seconds: int | None = None
    max_request_chars: int | None = None
    daily_call_limit: int | None = None  # null: no limit (absent: unchanged)
    daily_token_limit: int | None = None  # null: no limit (absent: unchanged)

    def changes(self) -> dict[str, object]:
        """The settings sent (a limit sent as null is kept: it means "no limit")."""
        sent = self.model_dump(exclude_unset=True, exclude={"api_key", "clear_api_key"})
        limits = ("daily_call_limit", "daily_token_limit")
        return {key: value for key, value in sent.items() if value is not None or key in limits}
