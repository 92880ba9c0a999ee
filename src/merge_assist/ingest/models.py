"""The event inbox: every webhook delivery GitLab made, stored once by its idempotency key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class InboxEvent(Base):
    """One webhook delivery; ``processed_at`` is set once a reconcile of its project started
    after it arrived (or at once for kinds the queue ignores)."""

    __tablename__ = "event_inbox"
    # Keys are unique per project: one project's hook cannot shadow another project's events.
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        Index("ix_event_inbox_project_processed", "project_id", "processed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    event_kind: Mapped[str] = mapped_column(String(32))
    object_iid: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
