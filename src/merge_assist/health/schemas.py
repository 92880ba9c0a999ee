"""API shapes of the health status (``GET /api/health/status``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ProcessStatus(BaseModel):
    """A worker, watcher, API or listener process, as its heartbeats tell."""

    worker_id: str
    role: str
    hostname: str
    pid: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None
    alive: bool = Field(description="Seen within three heartbeat intervals and not stopped.")


class LeaseStatus(BaseModel):
    """Who owns a project."""

    project_id: int
    project_path: str | None
    owner: str
    token: int = Field(description="The fencing token; it grows each time the lease moves.")
    expires_at: datetime
    held: bool = Field(description="The lease has not expired.")


class QueueDepth(BaseModel):
    """How many merge requests a project's queue on one target branch holds, by state."""

    project_id: int
    project_path: str | None
    target_branch: str
    states: dict[str, int] = Field(description="waiting, ready, not_ready, merging, in_batch")
    total: int


class InboxBacklog(BaseModel):
    """Webhook events stored but not yet reconciled by the project's owner."""

    unprocessed: int
    oldest_received_at: datetime | None
    by_project: dict[int, int]


class ErrorEntry(BaseModel):
    """A recent error of a merge queue (a ``logs`` row with level ``error``)."""

    id: int
    project_id: int | None
    target_branch: str | None
    iid: int | None
    message: str
    created_at: datetime


class WebhookHealth(BaseModel):
    """Whether GitLab still sends a project's events (``GET /api/health/webhooks``)."""

    project_id: int
    project_path: str | None
    hook_id: int | None
    state: Literal["executable", "temporarily_disabled", "disabled", "missing", "unknown"] = Field(
        description="GitLab's alert_status of our hook; missing: no hook or deleted in "
        "GitLab; unknown: GitLab could not be asked."
    )
    disabled_until: datetime | None
    problem: str | None = Field(description="What is wrong and what to do; null when healthy.")


class HealthStatus(BaseModel):
    """What runs and how far behind it is: processes, leases, queues, inbox, errors."""

    checked_at: datetime
    workers: list[ProcessStatus]
    leases: list[LeaseStatus]
    queues: list[QueueDepth]
    inbox: InboxBacklog
    last_errors: list[ErrorEntry]
