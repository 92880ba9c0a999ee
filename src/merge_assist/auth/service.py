"""Signing in and out: password login with throttling, rotating refresh tokens, principals.

Services never commit. Refusals raised here may leave records in the session that must be
kept (a failed attempt, a family revoked after token reuse): callers commit on
``MergeAssistError`` too (see ``endpoints.session_keeping_refusals``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.attempts import LoginReservation, reserve_login_attempt
from merge_assist.auth.audit_port import AuditSink, ClientInfo
from merge_assist.auth.models import RefreshToken, User
from merge_assist.auth.passwords import password_hashing
from merge_assist.auth.principal import Principal
from merge_assist.auth.revocation import end_sessions, principal_of
from merge_assist.auth.tokens import (
    hash_token,
    issue_access_token,
    new_family_id,
    new_refresh_token,
)
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import NotAuthenticated
from merge_assist.kit.refusals import refusal_details
from merge_assist.kit.settings import Settings

BAD_CREDENTIALS = "The username or password is not correct."
BAD_REFRESH_TOKEN = "The refresh token is not valid; sign in again."  # noqa: S105 - a message


@dataclass(frozen=True)
class TokenPair:
    """What a sign-in or a refresh hands to the client."""

    access_token: str
    expires_in: int
    refresh_token: str


async def login(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    username: str,
    password: str,
    client: ClientInfo,
    reservation: LoginReservation | None = None,
) -> TokenPair:
    """Check a username and password and start a session; throttled per user and address.

    ``reservation`` is the attempt counted beforehand (``reserve_login_attempt``, committed);
    without one it is reserved here, in ``session``.
    """
    if reservation is None:
        reservation = await reserve_login_attempt(
            session, settings, audit, username=username, client=client
        )
    name = reservation.name
    user = await repository.user_by_username(session, name)
    hashing = password_hashing(settings)
    # Unknown users cost a verification too, so timing does not tell which usernames exist.
    check = await hashing.verify_async(user.password_hash if user else None, password)
    if user is None or not check.ok or not user.is_active:
        # The reserved attempt already counts as the failure.
        reason = "bad_credentials" if user is None or not check.ok else "deactivated"
        refusal = NotAuthenticated(
            "This account is deactivated; ask an administrator."
            if reason == "deactivated"
            else BAD_CREDENTIALS
        )
        await audit.record(
            session,
            actor_id=user.id if user else None,
            action="auth.login",
            target=f"user:{name}",
            success=False,
            details=refusal_details(refusal, reason=reason, address=client.address),
        )
        raise refusal
    if check.new_hash is not None:
        user.password_hash = check.new_hash
    await repository.mark_login_attempt_succeeded(session, reservation.attempt_id)
    return await _start_session(
        session, settings, audit, user=user, client=client, details={"address": client.address}
    )


async def complete_login(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    user: User,
    reservation: LoginReservation,
    client: ClientInfo,
    details: dict[str, Any],
) -> TokenPair:
    """The tail of a GitLab-token sign-in: the reserved attempt becomes a success, then the
    user's session starts (``_start_session``)."""
    await repository.mark_login_attempt_succeeded(session, reservation.attempt_id)
    return await _start_session(session, settings, audit, user=user, client=client, details=details)


async def _start_session(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    user: User,
    client: ClientInfo,
    details: dict[str, Any],
) -> TokenPair:
    """Forget attempts past the throttling window, issue the user's tokens, audit the login."""
    now = utcnow()
    await repository.prune_login_attempts(
        session, now - timedelta(seconds=settings.login_window_seconds)
    )
    pair = await _issue(session, settings, user, new_family_id(), client, now)
    await audit.record(
        session,
        actor_id=user.id,
        action="auth.login",
        target=f"user:{user.id}",
        success=True,
        details=details,
    )
    return pair


async def refresh(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    refresh_token: str,
    client: ClientInfo,
) -> TokenPair:
    """Trade a refresh token for new tokens; a reused (already rotated) one ends its family."""
    now = utcnow()
    row = await repository.refresh_token_by_hash(session, hash_token(refresh_token))
    if row is None:
        raise NotAuthenticated(BAD_REFRESH_TOKEN)
    if row.revoked_at is not None:
        if row.replaced_by_id is not None:
            await _end_family_after_reuse(session, audit, row, client, now)
        raise NotAuthenticated(BAD_REFRESH_TOKEN)
    if row.expires_at <= now:
        raise NotAuthenticated("The refresh token has expired; sign in again.")
    user = await repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        await repository.revoke_family(session, row.family_id, now)
        raise NotAuthenticated("This account is deactivated; ask an administrator.")
    if not await repository.claim_refresh_token(session, row.id, now):
        # Another request rotated it between our read and our update: that is reuse too.
        await _end_family_after_reuse(session, audit, row, client, now)
    return await _issue(session, settings, user, row.family_id, client, now, replaces=row.id)


async def _end_family_after_reuse(
    session: AsyncSession,
    audit: AuditSink,
    row: RefreshToken,
    client: ClientInfo,
    now: datetime,
) -> None:
    await repository.revoke_family(session, row.family_id, now)
    refusal = NotAuthenticated(
        "This refresh token was already used, so every session of this sign-in was ended; "
        "sign in again."
    )
    await audit.record(
        session,
        actor_id=row.user_id,
        action="auth.refresh_reuse",
        target=f"user:{row.user_id}",
        success=False,
        details=refusal_details(refusal, family=row.family_id, address=client.address),
    )
    raise refusal


async def logout(
    session: AsyncSession, audit: AuditSink, *, refresh_token: str, everywhere: bool
) -> None:
    """End the sign-in of ``refresh_token`` (or every sign-in of its user); a token that is
    unknown, revoked or expired: no-op."""
    now = utcnow()
    row = await repository.refresh_token_by_hash(session, hash_token(refresh_token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        # A token that no longer works ends nothing: whoever kept an old (rotated, signed-out)
        # token cannot sign its user out everywhere with it. Reuse of a rotated token still
        # ends its own sign-in at /api/auth/refresh.
        return
    if everywhere:
        await end_sessions(session, row.user_id, now=now)
    else:
        await repository.revoke_family(session, row.family_id, now)
    await audit.record(
        session,
        actor_id=row.user_id,
        action="auth.logout",
        target=f"user:{row.user_id}",
        success=True,
        details={"everywhere": everywhere},
    )


async def logout_all(session: AsyncSession, audit: AuditSink, *, user_id: int) -> None:
    """End every sign-in of ``user_id``: refresh and access tokens stop working, sockets close."""
    await end_sessions(session, user_id)
    await audit.record(
        session,
        actor_id=user_id,
        action="auth.logout",
        target=f"user:{user_id}",
        success=True,
        details={"everywhere": True},
    )


async def _issue(
    session: AsyncSession,
    settings: Settings,
    user: User,
    family_id: str,
    client: ClientInfo,
    now: datetime,
    *,
    replaces: int | None = None,
) -> TokenPair:
    """A new access token and a new refresh token in ``family_id`` (linked to its predecessor)."""
    access = issue_access_token(
        user.id,
        key=settings.resolved_secret_key(),
        minutes=settings.access_token_minutes,
        now=now,
    )
    raw = new_refresh_token()
    stored = await repository.add_refresh_token(
        session,
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
            user_agent=client.user_agent[:256] if client.user_agent else None,
            ip=client.address,
        ),
    )
    if replaces is not None:
        await repository.set_replaced_by(session, replaces, stored.id)
    return TokenPair(access.token, access.expires_in, raw)


async def load_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The active user ``user_id`` with the roles they hold now; None if gone or deactivated."""
    user = await repository.user_by_id(session, user_id)
    if user is None or not user.is_active:
        return None
    return principal_of(user)
