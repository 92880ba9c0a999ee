"""Merge-queue tables: the engine's stored state and what the dashboard and API read.

``engine_states`` is the source of truth the worker resumes from (one JSON document per
project and target branch). The other tables are projections and records written by the
runner after each step, in the same transaction as the state, so they never disagree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime

# Values of ``MergeRequestRecord.queue_state`` (the dashboard groups by them).
QUEUE_STATES = (
    "waiting",  # recognised; validation waits (pipeline running, GitLab checking)
    "ready",  # passes validation; waits for its turn
    "not_ready",  # fails validation or blocked until the author pushes (see ``reasons``)
    "merging",  # inside a single attempt (rebasing, testing, landing)
    "in_batch",  # inside a batch run (building, testing, landing, bisecting)
    "merged",  # landed
    "rejected",  # rejected after max strikes; the bot was unassigned
    "removed",  # left the queue (unassigned, closed, merged by hand, retargeted)
)


class EngineStateRow(Base):
    """The engine's ``TargetQueueState`` JSON for one (project, target branch)."""

    __tablename__ = "engine_states"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    target_branch: Mapped[str] = mapped_column(String(255), primary_key=True)
    state_json: Mapped[str] = mapped_column(Text)
    # Bumped on every store; a writer that read an older version lost its lease (fencing).
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MergeRequestRecord(Base):
    """One MR the queue knows (or knew): what the API lists and the dashboard shows."""

    __tablename__ = "merge_requests"
    __table_args__ = (
        UniqueConstraint("project_id", "iid"),
        Index("ix_merge_requests_project_state", "project_id", "queue_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    iid: Mapped[int] = mapped_column(Integer)
    target_branch: Mapped[str] = mapped_column(String(255))
    source_branch: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    author_username: Mapped[str | None] = mapped_column(String(255))
    web_url: Mapped[str | None] = mapped_column(String(1024))
    queue_state: Mapped[str] = mapped_column(String(16), default="waiting")
    # Set through POST /api/mrs/{id}/priority; the engine reads it into snapshots.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    strikes: Mapped[int] = mapped_column(Integer, default=0)
    head_sha: Mapped[str | None] = mapped_column(String(64))
    pipeline_status: Mapped[str | None] = mapped_column(String(32))
    pipeline_url: Mapped[str | None] = mapped_column(String(1024))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The batch run (``batch_operations.id``) the MR is in, while in one.
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batch_operations.id", ondelete="SET NULL")
    )
    recognised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BatchOperation(Base):
    """One batch attempt (or bisection probe): members, pipeline, outcome."""

    __tablename__ = "batch_operations"
    __table_args__ = (
        UniqueConstraint("project_id", "target_branch", "attempt_id"),
        Index("ix_batch_operations_project_started", "project_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    target_branch: Mapped[str] = mapped_column(String(255))
    attempt_id: Mapped[int] = mapped_column(Integer)  # Attempt.id in the engine state
    run_id: Mapped[int | None] = mapped_column(Integer)  # BatchRun.id
    probe: Mapped[bool] = mapped_column(default=False)
    # building | testing | landing | landed | passed (a probe) | failed | aborted
    status: Mapped[str] = mapped_column(String(16))
    member_iids: Mapped[list[int]] = mapped_column(JSON, default=list)
    landed_iids: Mapped[list[int]] = mapped_column(JSON, default=list)
    culprit_iids: Mapped[list[int]] = mapped_column(JSON, default=list)
    branch: Mapped[str | None] = mapped_column(String(255))
    batch_mr_iid: Mapped[int | None] = mapped_column(Integer)
    batch_mr_url: Mapped[str | None] = mapped_column(String(1024))
    base_sha: Mapped[str | None] = mapped_column(String(64))
    tested_sha: Mapped[str | None] = mapped_column(String(64))
    pipeline_id: Mapped[int | None] = mapped_column(BigInteger)
    pipeline_status: Mapped[str | None] = mapped_column(String(32))
    landed_sha: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MergeHistoryEntry(Base):
    """An event of the queue (recognised, struck, rejected, merged, batch_*), once per key."""

    __tablename__ = "merge_history"
    __table_args__ = (Index("ix_merge_history_project_at", "project_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    target_branch: Mapped[str] = mapped_column(String(255))
    event: Mapped[str] = mapped_column(String(32))
    iids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # RecordHistory.record_key, prefixed with the project and branch: replays insert nothing.
    record_key: Mapped[str] = mapped_column(String(512), unique=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QueueLogEntry(Base):
    """A log line of the queue for one project (the dashboard's live tail)."""

    __tablename__ = "logs"
    __table_args__ = (Index("ix_logs_project_id_id", "project_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    target_branch: Mapped[str | None] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(8))  # debug | info | warning | error
    message: Mapped[str] = mapped_column(Text)
    iid: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
