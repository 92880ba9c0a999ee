"""The ``audit_entries`` table: an append-only, hash-chained record of who did what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.db import Base, UTCDateTime

# BIGINT on PostgreSQL (years of entries), INTEGER on SQLite so the column is the ROWID alias.
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One audited action; ``id`` is the chain order, ``entry_hash`` seals the row.

    ``actor_id`` deliberately has no foreign key: deleting a user must not break (or cascade
    into) the chain, so ``actor_name`` keeps who it was.
    """

    __tablename__ = "audit_entries"
    # SQLite: AUTOINCREMENT so an id is never reused, even after the newest row is deleted.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_ID_TYPE, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    actor_name: Mapped[str] = mapped_column(String(255), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Unique: two entries can never link to the same predecessor, so even a locking mistake
    # fails loudly (IntegrityError) instead of forking the chain.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # 1: SHA-256 (entries written before the chain was keyed); 2: HMAC-SHA256 under the audit
    # key (audit/chain.py, audit/keys.py).
    hash_scheme: Mapped[int] = mapped_column(SmallInteger, server_default="1")

    def __repr__(self) -> str:
        return f"<AuditEntry #{self.id} {self.action} by {self.actor_name!r}>"


class RefusalTally(Base):
    """Repeated refusals of one kind, from one address, in one fixed window: counted, not logged.

    The first refusal of a (action, target, address, reason) in a window is an audit entry
    (``first_entry_id``); the next ones only raise ``count``. When the window has passed, the
    watcher appends one summary entry with the count and deletes the row (``audit/tallies.py``).
    Not part of the chain: it only decides what is appended to it.
    """

    __tablename__ = "audit_refusal_tallies"
    __table_args__ = (UniqueConstraint("action", "target", "address", "reason", "window_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    count: Mapped[int] = mapped_column(Integer)
    first_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
