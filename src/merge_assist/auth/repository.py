"""Queries of users and access (no rules here: see ``service``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.models import (
    GitLabIdentity,
    LoginAttempt,
    RefreshToken,
    Role,
    User,
    UserRole,
)
from merge_assist.auth.roles import RoleName


async def user_by_id(session: AsyncSession, user_id: int) -> User | None:
    """The user with ``user_id`` (roles loaded)."""
    return await session.get(User, user_id)


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    """The user whose (lowercase) username is ``username``."""
    result = await session.execute(select(User).where(User.username == username.lower()))
    return result.scalar_one_or_none()


async def list_users(
    session: AsyncSession, *, query: str | None, offset: int, limit: int
) -> tuple[Sequence[User], int]:
    """A page of users ordered by username, optionally matching ``query``, and the total."""
    statement = select(User)
    if query:
        pattern = "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        statement = statement.where(
            or_(
                User.username.like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(statement.order_by(User.username).offset(offset).limit(limit))
    return rows.all(), total or 0


async def roles_named(session: AsyncSession, names: Iterable[str]) -> list[Role]:
    """The role rows for ``names`` (known role names only), creating any that are missing.

    The first migration seeds them; creating here keeps schemas built from the models alone
    (other features' tests) working.
    """
    wanted = sorted({RoleName(name).value for name in names})
    if not wanted:
        return []
    found = {
        role.name: role for role in await session.scalars(select(Role).where(Role.name.in_(wanted)))
    }
    for name in wanted:
        if name not in found:
            found[name] = Role(name=name)
            session.add(found[name])
    if len(found) != len(wanted) or any(role.id is None for role in found.values()):
        await session.flush()
    return [found[name] for name in wanted]


async def active_admin_ids(session: AsyncSession) -> list[int]:
    """Ids of active admins, locked until the transaction ends (PostgreSQL) so two
    concurrent demotions cannot both see the other admin as still there."""
    statement = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.name == RoleName.admin.value, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update(of=User)
    )
    return list(await session.scalars(statement))


async def add_refresh_token(session: AsyncSession, token: RefreshToken) -> RefreshToken:
    """Store a refresh token row and give it an id."""
    session.add(token)
    await session.flush()
    return token


async def refresh_token_by_hash(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    """The refresh token row whose hash is ``token_hash``."""
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    )
    return result.scalar_one_or_none()


async def claim_refresh_token(session: AsyncSession, token_id: int, now: datetime) -> bool:
    """Atomically revoke a still-live token; False when someone else revoked it first."""
    result = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
    """Revoke every live token of a sign-in."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def revoke_user_tokens(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Revoke every live refresh token of a user (sign out everywhere)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


async def end_access_tokens(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Refuse every access token of ``user_id`` issued before ``now``."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(tokens_valid_after=now)
        .execution_options(synchronize_session="fetch")
    )


async def set_replaced_by(session: AsyncSession, token_id: int, replaced_by_id: int) -> None:
    """Record which token replaced a rotated one (so its reuse is recognised)."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id)
        .values(replaced_by_id=replaced_by_id)
        .execution_options(synchronize_session=False)
    )


async def record_login_attempt(
    session: AsyncSession, *, username: str, address: str | None, at: datetime, success: bool
) -> int:
    """Store one login attempt; its id."""
    attempt = LoginAttempt(username=username, address=address, at=at, success=success)
    session.add(attempt)
    await session.flush()
    return attempt.id


async def mark_login_attempt_succeeded(session: AsyncSession, attempt_id: int) -> None:
    """Turn a reserved attempt (counted as a failure until then) into a success."""
    await session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.id == attempt_id)
        .values(success=True)
        .execution_options(synchronize_session=False)
    )


async def drop_login_attempt(session: AsyncSession, attempt_id: int) -> None:
    """Forget a reserved attempt that did not get to check anything (nobody's fault)."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))


async def lock_login_counters(
    session: AsyncSession, keys: Iterable[str], prune_before: datetime
) -> None:
    """Hold the throttling counters of ``keys`` until the transaction ends, so counting the
    recent failures and reserving an attempt is one step for concurrent sign-ins.

    PostgreSQL: a transaction-level advisory lock per key (in a fixed order: no deadlock).
    SQLite: the first write of a transaction takes the database's write lock, held to the
    end (other writers wait, ``busy_timeout``); pruning old attempts is that write.
    """
    if session.get_bind().dialect.name == "postgresql":
        for lock_id in sorted({_advisory_lock_id(key) for key in keys}):
            await session.execute(select(func.pg_advisory_xact_lock(lock_id)))
    await prune_login_attempts(session, prune_before)


def _advisory_lock_id(key: str) -> int:
    digest = hashlib.sha256(b"merge-assist-login:" + key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def recent_failures_for_user(
    session: AsyncSession, username: str, since: datetime, limit: int
) -> list[datetime]:
    """Times of the newest failures for ``username`` after ``since`` and after its last success."""
    last_success = await session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.success.is_(True)
        )
    )
    start = max(since, last_success) if last_success is not None else since
    return await _failure_times(session, LoginAttempt.username == username, start, limit)


async def recent_failures_from_address(
    session: AsyncSession, address: str, since: datetime, limit: int
) -> list[datetime]:
    """Times of the newest failures from ``address`` after ``since``."""
    return await _failure_times(session, LoginAttempt.address == address, since, limit)


async def _failure_times(
    session: AsyncSession, condition: ColumnElement[bool], since: datetime, limit: int
) -> list[datetime]:
    rows = await session.scalars(
        select(LoginAttempt.at)
        .where(condition, LoginAttempt.success.is_(False), LoginAttempt.at > since)
        .order_by(LoginAttempt.at.desc())
        .limit(limit)
    )
    return list(rows)


async def prune_login_attempts(session: AsyncSession, before: datetime) -> None:
    """Forget attempts older than the throttling window."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < before))


async def user_by_gitlab_id(session: AsyncSession, gitlab_user_id: int) -> User | None:
    """The user linked to the GitLab account ``gitlab_user_id``."""
    result = await session.execute(select(User).where(User.gitlab_user_id == gitlab_user_id))
    return result.scalar_one_or_none()


async def usernames_taken(session: AsyncSession, usernames: Iterable[str]) -> set[str]:
    """Which of ``usernames`` (lowercase) some user holds."""
    wanted = list(usernames)
    rows = await session.scalars(select(User.username).where(User.username.in_(wanted)))
    return set(rows)


async def gitlab_identity_of(session: AsyncSession, user_id: int) -> GitLabIdentity | None:
    """The GitLab identity (and encrypted token) of ``user_id``."""
    result = await session.execute(select(GitLabIdentity).where(GitLabIdentity.user_id == user_id))
    return result.scalar_one_or_none()


async def gitlab_tokens_expiring(
    session: AsyncSession, before: datetime
) -> Sequence[GitLabIdentity]:
    """The identities whose stored token expires before ``before`` (soonest first)."""
    rows = await session.scalars(
        select(GitLabIdentity)
        .where(
            GitLabIdentity.token_encrypted.is_not(None),
            GitLabIdentity.expires_at.is_not(None),
            GitLabIdentity.expires_at < before,
        )
        .order_by(GitLabIdentity.expires_at)
        .limit(500)
    )
    return rows.all()


async def forget_gitlab_token(session: AsyncSession, user_id: int) -> bool:
    """Delete the stored GitLab token of ``user_id`` (the identity stays); whether one was."""
    result = await session.execute(
        update(GitLabIdentity)
        .where(GitLabIdentity.user_id == user_id, GitLabIdentity.token_encrypted.is_not(None))
        .values(token_encrypted=None, scopes="")
        .execution_options(synchronize_session="fetch")
    )
    return getattr(result, "rowcount", 0) == 1


async def add_gitlab_identity(session: AsyncSession, identity: GitLabIdentity) -> GitLabIdentity:
    """Store a new GitLab identity."""
    session.add(identity)
    await session.flush()
    return identity


async def delete_login_attempts_before(session: AsyncSession, before: datetime) -> int:
    """Delete sign-in attempts older than ``before``; how many were deleted."""
    result = await session.execute(delete(LoginAttempt).where(LoginAttempt.at < before))
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_refresh_tokens_expired_before(session: AsyncSession, before: datetime) -> int:
    """Delete refresh tokens that expired before ``before`` (used, revoked or not)."""
    # A row another token was rotated from points at it; SET NULL on delete keeps them valid.
    result = await session.execute(delete(RefreshToken).where(RefreshToken.expires_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
