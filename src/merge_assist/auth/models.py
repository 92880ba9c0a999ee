"""Tables of users and access: users, roles, refresh tokens, login attempts, permissions, and
the GitLab identities of users who signed in with a GitLab token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import Base, UTCDateTime


class Role(Base):
    """A global role (seeded by the first migration)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class UserRole(Base):
    """Which user holds which role."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class User(Base):
    """A person (or bot) who signs in; usernames are stored lowercase, so unique ignoring case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))
    # None for users who sign in with a GitLab token only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    gitlab_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    # Access tokens issued (``iat``) before this instant are refused: set when the user signs
    # out everywhere, gets a new password, is deactivated or has their roles changed.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    roles: Mapped[list[Role]] = relationship(
        secondary=UserRole.__table__, lazy="selectin", order_by=Role.name
    )

    @property
    def role_names(self) -> frozenset[str]:
        """The names of the roles the user holds."""
        return frozenset(role.name for role in self.roles)


class RefreshToken(Base):
    """A rotating refresh token, stored only as the SHA-256 hex of the opaque token."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Every rotation of one sign-in shares the family; reuse of a rotated token revokes it all.
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("refresh_tokens.id", ondelete="SET NULL")
    )
    user_agent: Mapped[str | None] = mapped_column(String(256))
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """One password login attempt, kept for the length of the throttling window."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class ProjectPermission(Base):
    """Per-project refinement of a user's global role."""

    __tablename__ = "project_permissions"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    can_manage: Mapped[bool] = mapped_column(Boolean, default=False)
    can_set_priority: Mapped[bool] = mapped_column(Boolean, default=False)


class GitLabIdentity(Base):
    """The GitLab account a user signed in with, and their personal access token (encrypted).

    ``token_encrypted`` is a ``kit.crypto`` envelope (keyring purpose ``gitlab-pat``) bound to
    the user's id, so it cannot be moved to another user's row. The token is never stored,
    logged or returned in plain text.
    """

    __tablename__ = "gitlab_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    gitlab_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    gitlab_username: Mapped[str] = mapped_column(String(255))
    # None once forgotten: the user asked, signed out everywhere, got a new password, was
    # deactivated, or the token expired (the account and username are kept).
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    # Space-separated, as GitLab names them (e.g. "api read_repository").
    scopes: Mapped[str] = mapped_column(String(1024))
    # GitLab gives a date; stored as the first instant of that day (UTC), when it stops working.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The expiry the owner was last warned about, so the warning message is sent once per token.
    expiry_warned_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
