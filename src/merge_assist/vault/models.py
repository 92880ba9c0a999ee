"""Tables of the vault: ``vaults``, ``vault_files`` (stable ids) and ``vault_locks``.

A file's id never changes (a rename keeps its row, so its lock and links stay). A lock is one
row per file: ``file_id`` is unique, so under any concurrency exactly one check-out inserts it
and every other gets the unique violation (the database is the arbiter, never a
read-then-write in Python). Locks never expire; their age is shown instead.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime

MAX_REASON = 500


class VaultBackend(enum.StrEnum):
    """Where a vault's contents live."""

    local = "local"
    gitlab = "gitlab"


class Vault(Base):
    """A folder of a repository kept as a vault: a local git repository or a GitLab project."""

    __tablename__ = "vaults"
    __table_args__ = (CheckConstraint("backend IN ('local', 'gitlab')", name="backend"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    backend: Mapped[str] = mapped_column(String(16))
    # The onboarded project of a GitLab vault (None for a local one).
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), index=True
    )
    folder: Mapped[str] = mapped_column(String(1024), default="")
    branch: Mapped[str] = mapped_column(String(255), default="main")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VaultFile(Base):
    """A file of a vault: its stable id, path in the folder and newest version."""

    __tablename__ = "vault_files"
    __table_args__ = (UniqueConstraint("vault_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vault_id: Mapped[int] = mapped_column(ForeignKey("vaults.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(1024))
    current_version: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(255))


class VaultLock(Base):
    """An exclusive check-out of one file (``file_id`` unique: one holder at most)."""

    __tablename__ = "vault_locks"
    __table_args__ = (
        CheckConstraint(
            f"length(reason) >= 1 AND length(reason) <= {MAX_REASON}", name="reason_length"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("vault_files.id", ondelete="CASCADE"), unique=True
    )
    holder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(String(MAX_REASON))
    # The version the holder started from (what their check-in is compared with).
    base_version: Mapped[str] = mapped_column(String(64))
