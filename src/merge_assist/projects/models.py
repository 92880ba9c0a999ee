"""Projects: the GitLab projects Merge Assist serves (the merge-queue feature extends this)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class Project(Base):
    """A GitLab project onboarded into Merge Assist."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gitlab_project_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    path_with_namespace: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
