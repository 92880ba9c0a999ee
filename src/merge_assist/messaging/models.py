"""Tables of messaging: ``messages`` and one ``message_recipients`` row per recipient.

Read and delete state lives on the recipient row, never on the message, so a broadcast read
(or deleted) by one user stays unread (and present) for everyone else. A broadcast is
materialised at send time: one recipient row per active user then. That keeps every inbox
query a plain join on the user's own rows, and users created later do not inherit old
broadcasts (they were not there to be told). The cost, one row per user per broadcast, is
small for the teams this serves (tens to hundreds of users).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class SenderKind(enum.StrEnum):
    """Who wrote a message: a signed-in user, or the product itself (vault, merge queue)."""

    user = "user"
    system = "system"


class Message(Base):
    """One message as written; who received it and what they did with it is per recipient.

    ``related_file`` and ``related_mr`` are not indexed: filters on them always start from one
    user's recipient rows (indexed), and a 1024-character path could exceed a B-tree entry.
    """

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("sender_kind IN ('user', 'system')", name="sender_kind"),
        Index("ix_messages_sender_id_created_at", "sender_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for system messages, and for a user's messages after the user row is deleted.
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A vault file id or path.
    related_file: Mapped[str | None] = mapped_column(String(1024))
    # ``<project id or path>!<iid>``, e.g. ``42!7`` or ``group/proj!12``.
    related_mr: Mapped[str | None] = mapped_column(String(300))
    is_broadcast: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class MessageRecipient(Base):
    """A message's copy for one user: their read and delete state (the primary key makes
    ``(message_id, user_id)`` unique)."""

    __tablename__ = "message_recipients"
    __table_args__ = (Index("ix_message_recipients_user_id_read_at", "user_id", "read_at"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
