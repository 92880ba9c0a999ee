"""API shapes of the merge queue (``/api/projects/{id}/mrs``, ``/api/mrs/...``, batches, trains,
logs, stats) and the live events the dashboard receives.

Live events (``WS /api/ws/updates``, sent to everyone signed in who may see the project):

* ``mr.updated``    ``{"project_id": int, "mr": MergeRequestOut}``
* ``batch.updated`` ``{"project_id": int, "batch": BatchOut}``
* ``log.appended``  ``{"project_id": int, "log": LogOut}``
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

QueueState = Literal[
    "waiting", "ready", "not_ready", "merging", "in_batch", "merged", "rejected", "removed"
]
LogLevel = Literal["debug", "info", "warning", "error"]

MAX_PRIORITY = 100


class MergeRequestOut(BaseModel):
    """One MR of the queue as the dashboard shows it (``id`` is ours; ``iid`` is GitLab's)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    iid: int
    target_branch: str
    source_branch: str | None
    title: str
    author_username: str | None
    web_url: str | None
    queue_state: QueueState
    priority: int
    strikes: int
    head_sha: str | None
    pipeline_status: str | None
    pipeline_url: str | None
    reasons: list[str]
    batch_id: int | None
    recognised_at: datetime | None
    merged_at: datetime | None
    rejected_at: datetime | None
    updated_at: datetime
    # 1-based place in the landing order among waiting/ready MRs of its branch; None otherwise.
    position: int | None = None


class HistoryOut(BaseModel):
    """One event of the queue's history (recognised, struck, rejected, merged, ...)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    target_branch: str
    event: str
    iids: list[int]
    details: dict[str, Any]
    created_at: datetime


class MergeRequestDetail(MergeRequestOut):
    """``GET /api/mrs/{id}``: the MR and the history entries naming it, oldest first."""

    history: list[HistoryOut]


class MergeRequestList(BaseModel):
    """``GET /api/projects/{id}/mrs?state=&target_branch=``: queue order first, then newest."""

    items: list[MergeRequestOut]
    total: int
    target_branches: list[str]  # the project's configured target branches
    can_set_priority: bool  # whether the caller may change priorities in this project
    priority_cap: int  # how many MRs may hold a raised priority at once (the batch size)


class PriorityChange(BaseModel):
    """``POST /api/mrs/{id}/priority``: 0 is normal; higher lands first."""

    priority: int = Field(ge=0, le=MAX_PRIORITY)


class BatchOut(BaseModel):
    """One batch attempt or bisection probe."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    target_branch: str
    attempt_id: int
    run_id: int | None
    probe: bool
    # passed: a bisection probe whose pipeline passed (probes never land).
    status: Literal["building", "testing", "landing", "landed", "passed", "failed", "aborted"]
    member_iids: list[int]
    landed_iids: list[int]
    culprit_iids: list[int]
    branch: str | None
    batch_mr_iid: int | None
    batch_mr_url: str | None
    base_sha: str | None
    tested_sha: str | None
    pipeline_id: int | None
    pipeline_status: str | None
    landed_sha: str | None
    started_at: datetime
    finished_at: datetime | None


class BatchList(BaseModel):
    """``GET /api/projects/{id}/batches?limit=&before_id=``: newest first."""

    items: list[BatchOut]


class TrainMemberOut(BaseModel):
    """One MR of a car, probe or waiting group (title and link from the MR's row, if any)."""

    iid: int
    title: str | None
    web_url: str | None


class TrainPipelineOut(BaseModel):
    """The pipeline testing a car or probe: status as last seen (None: not seen yet)."""

    id: int
    status: str | None
    web_url: str | None
    retries: int  # how often the queue retried this pipeline after a failure


class TrainAttemptOut(BaseModel):
    """A probe of the train: a group of suspects tested on top of the cars, never landed."""

    attempt_id: int
    # building also covers rebasing; done/aborted only for the moment the engine retires it.
    status: Literal["building", "testing", "landing", "done", "aborted"]
    members: list[TrainMemberOut]
    pipeline: TrainPipelineOut | None
    base_sha: str  # short: the tree it is built on
    tested_sha: str | None  # short: the tree its pipeline tests


class TrainCarOut(TrainAttemptOut):
    """A car of the train: ``position`` 1 is the head (the next to land)."""

    position: int
    batch_mr_iid: int | None
    batch_mr_url: str | None


class TrainGroupOut(BaseModel):
    """Members of a failed car waiting for their probe (suspects) or for a car (cleared)."""

    members: list[TrainMemberOut]


class TrainOut(BaseModel):
    """One target branch's train."""

    target_branch: str
    strategy: str  # the project's strategy (cars in flight finish after a switch)
    depth: int  # how many cars may run at once now (adaptive, at most ``train_depth``)
    train_depth: int
    cars: list[TrainCarOut]
    probes: list[TrainAttemptOut]
    suspects: list[TrainGroupOut]
    cleared: list[TrainGroupOut]


class TrainList(BaseModel):
    """``GET /api/projects/{id}/train``: one entry per target branch running a train; empty
    when the project runs none."""

    items: list[TrainOut]


class LogOut(BaseModel):
    """One line of the queue's log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int | None
    target_branch: str | None
    level: LogLevel
    message: str
    iid: int | None
    details: dict[str, Any]
    created_at: datetime


class LogList(BaseModel):
    """``GET /api/logs?project_id=&level=&q=&after_id=&limit=``: oldest first after
    ``after_id`` (tail), else the newest ``limit`` lines in ascending order."""

    items: list[LogOut]


class HourCount(BaseModel):
    """Merged MRs in one hour (UTC, start of the hour)."""

    hour: datetime
    merged: int


class DurationStats(BaseModel):
    """Time from recognised to merged, in seconds, over the window."""

    count: int
    median_seconds: float | None
    p95_seconds: float | None


class MessageCount(BaseModel):
    """One raw message behind a kind of failure, and how often it was written."""

    message: str
    count: int


class ReasonCount(BaseModel):
    """How often MRs were struck or rejected for one kind of reason over the window."""

    reason: str = Field(description="The kind, in words: 'Pipeline failed', 'Conflict', ...")
    kind: str = Field(
        description="pipeline_failed, conflict, culprit, approvals, discussions, draft, "
        "timeout or other."
    )
    count: int
    messages: list[MessageCount] = Field(
        default_factory=list, description="The raw messages, most frequent first (at most 10)."
    )


class QueueStats(BaseModel):
    """``GET /api/projects/{id}/stats?hours=24``: the dashboard's charts."""

    window_hours: int
    merged_per_hour: list[HourCount]
    time_to_merge: DurationStats
    failures_by_reason: list[ReasonCount]


class ProjectActivity(BaseModel):
    """One visible project's queue now (``GET /api/queue/activity``): the dashboard opens the
    busiest one."""

    project_id: int
    queued: int
    last_activity_at: datetime | None
