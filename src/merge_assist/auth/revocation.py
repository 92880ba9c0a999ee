"""Ending sign-ins, and checking an access token against them.

A user's sign-ins end when they sign out everywhere, get a new password or are deactivated
(``end_sessions``): their refresh tokens are revoked, access tokens issued before that instant
(``users.tokens_valid_after`` against the token's ``iat``) are refused, their live sockets
close, and their stored GitLab token is deleted. A role change only closes the sockets
(``close_live_sockets``): requests read the roles anew. ``docs/auth.md`` (*Ending sign-ins*).
Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.models import User
from merge_assist.auth.principal import Principal
from merge_assist.auth.tokens import AccessClaims
from merge_assist.kit.clock import utcnow
from merge_assist.kit.live.events import SESSION_ENDED, LiveEvent
from merge_assist.kit.live.publish import publish_after_commit


async def end_sessions(session: AsyncSession, user_id: int, *, now: datetime | None = None) -> None:
    """End every sign-in of ``user_id``: their refresh tokens are revoked, their access tokens
    issued until now stop working (``tokens_valid_after``), their sockets close, and their
    stored GitLab token is deleted (nothing may act for them until they sign in again)."""
    now = now or utcnow()
    await repository.revoke_user_tokens(session, user_id, now)
    await repository.end_access_tokens(session, user_id, now)
    await repository.forget_gitlab_token(session, user_id)
    close_live_sockets(session, user_id)


def close_live_sockets(session: AsyncSession, user_id: int) -> None:
    """Close the live sockets of ``user_id`` on every process once ``session`` commits (the
    ``session.ended`` event; the dashboard reconnects and reloads what it shows). A session
    without a hub (the CLI's) leaves it to the sockets' periodic check of the user."""
    publish_after_commit(session, LiveEvent.for_users(SESSION_ENDED, [user_id]))


ACCOUNT_GONE = "This account is deactivated or no longer exists; sign in again."
# Short enough for a WebSocket close reason (123 bytes).
SIGN_IN_ENDED = (
    "This access token was ended (sign-out everywhere, new password or roles); refresh or sign in."
)


async def principal_for_access(
    session: AsyncSession, claims: AccessClaims
) -> tuple[Principal | None, str]:
    """The principal of a valid access token's claims, or None and why (a sentence)."""
    user = await repository.user_by_id(session, claims.user_id)
    if user is None or not user.is_active:
        return None, ACCOUNT_GONE
    valid_after = user.tokens_valid_after
    if valid_after is not None and claims.issued_at < valid_after.timestamp():
        return None, SIGN_IN_ENDED
    return principal_of(user), ""


def principal_of(user: User) -> Principal:
    """The principal of a user row (with the roles it holds now)."""
    return Principal(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=user.role_names,
    )
