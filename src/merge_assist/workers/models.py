"""Who runs what: one lease per project (with a fencing token) and each process's heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class ProjectLease(Base):
    """The worker that owns a project until ``expires_at`` (renewed while it lives).

    ``token`` only grows: it is bumped whenever the lease changes hands or is taken again after
    it lapsed, so a worker that lost the lease can tell by comparing tokens (fencing).
    """

    __tablename__ = "project_leases"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(255))
    token: Mapped[int] = mapped_column(BigInteger)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class WorkerHeartbeat(Base):
    """A process of Merge Assist (worker, watcher, listener) and when it was last seen alive."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
