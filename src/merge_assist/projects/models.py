"""Projects: the GitLab projects Merge Assist serves, and each one's merge-queue configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class Project(Base):
    """A GitLab project onboarded into Merge Assist (deactivated, never deleted: history stays)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gitlab_project_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    path_with_namespace: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(255))
    web_url: Mapped[str | None] = mapped_column(String(1024))
    default_branch: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    webhook_id: Mapped[int | None] = mapped_column(BigInteger)
    # An envelope of kit.crypto (purpose "webhook-secret", associated data "project:<gitlab id>").
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)


class ProjectConfigRow(Base):
    """How the merge queue runs one project (validated by ``projects.config``)."""

    __tablename__ = "project_config"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    target_branches: Mapped[list[str]] = mapped_column(JSON)
    strategy: Mapped[str] = mapped_column(String(16))
    batch_size: Mapped[int] = mapped_column(Integer)
    train_depth: Mapped[int] = mapped_column(Integer)
    parallel_tests: Mapped[int] = mapped_column(Integer, server_default="4")
    pipeline_retries: Mapped[int] = mapped_column(Integer, server_default="1")
    skip_ci_on_landing: Mapped[bool] = mapped_column(Boolean, server_default=false())
    polling_interval_seconds: Mapped[int] = mapped_column(Integer)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    webhook_enabled: Mapped[bool] = mapped_column(Boolean)
    max_rejections: Mapped[int] = mapped_column(Integer)
    landing: Mapped[str] = mapped_column(String(16))
    ai_debug_enabled: Mapped[bool] = mapped_column(Boolean)
    explain_on_rejection: Mapped[bool] = mapped_column(Boolean, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))
