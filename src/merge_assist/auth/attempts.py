"""Sign-in attempts: counted before anything is verified, throttled per user and address.

An attempt is reserved in a short transaction of its own (``reserve_login_attempt`` for a
password, ``reserve_token_attempt`` for a GitLab token): under the counters' lock
(``repository.lock_login_counters``) the recent failures are counted, 429 is raised when a
limit is reached, and otherwise the attempt is stored as a failure. The caller commits, then
verifies; a success turns the attempt into one (``repository.mark_login_attempt_succeeded``).
``throttling.seconds_until_allowed`` is the pure rule. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.auth.throttling import seconds_until_allowed
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import TooManyRequests
from merge_assist.kit.refusals import refusal_details
from merge_assist.kit.settings import Settings

if TYPE_CHECKING:  # the service imports this module
    from merge_assist.auth.audit_port import AuditSink, ClientInfo


@dataclass(frozen=True)
class LoginReservation:
    """A password attempt already counted, as a failure until its password checks."""

    attempt_id: int
    name: str


async def reserve_login_attempt(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    username: str,
    client: ClientInfo,
) -> LoginReservation:
    """Count this attempt before anything is verified; 429 when the user or address is over.

    Counting the recent failures and adding this attempt happen under the counters' lock
    (``repository.lock_login_counters``), so of many parallel attempts only the limit's worth
    get to check a password. Commit the session before verifying (the endpoint does, in its
    own unit of work), so the lock is not held while the password is hashed.
    """
    name = username.strip().lower()
    return await _reserve(session, settings, audit, name=name, attempt_name=name, client=client)


async def reserve_token_attempt(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    attempt_name: str,
    client: ClientInfo,
) -> LoginReservation:
    """Like ``reserve_login_attempt`` for a sign-in without a username (a GitLab token,
    stored as ``attempt_name``): throttled per address only."""
    return await _reserve(
        session, settings, audit, name=None, attempt_name=attempt_name, client=client
    )


async def _reserve(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    name: str | None,
    attempt_name: str,
    client: ClientInfo,
) -> LoginReservation:
    now = utcnow()
    keys = [f"user:{name}"] if name is not None else []
    keys += [f"address:{client.address}"] if client.address else []
    window = timedelta(seconds=settings.login_window_seconds)
    await repository.lock_login_counters(session, keys, now - window)
    await refuse_when_throttled(session, settings, audit, name=name, client=client, now=now)
    attempt_id = await repository.record_login_attempt(
        session, username=attempt_name, address=client.address, at=now, success=False
    )
    return LoginReservation(attempt_id, attempt_name)


async def refuse_when_throttled(
    session: AsyncSession,
    settings: Settings,
    audit: AuditSink,
    *,
    name: str | None,
    client: ClientInfo,
    now: datetime,
) -> None:
    """Raise ``TooManyRequests`` while the user ``name`` or the client's address has failed too
    often in the window; ``name`` None checks the address only (a token sign-in has no name
    until GitLab has answered)."""
    window = timedelta(seconds=settings.login_window_seconds)
    waits: list[int | None] = []
    if name is not None:
        failures = await repository.recent_failures_for_user(
            session, name, now - window, settings.login_max_failures_per_user
        )
        waits.append(
            seconds_until_allowed(
                failures, limit=settings.login_max_failures_per_user, window=window, now=now
            )
        )
    if client.address is not None:
        failures = await repository.recent_failures_from_address(
            session, client.address, now - window, settings.login_max_failures_per_address
        )
        waits.append(
            seconds_until_allowed(
                failures, limit=settings.login_max_failures_per_address, window=window, now=now
            )
        )
    wait = max((w for w in waits if w is not None), default=None)
    if wait is None:
        return
    refusal = TooManyRequests(
        f"Too many failed sign-ins; try again in {wait} seconds.", retry_after=wait
    )
    await audit.record(
        session,
        actor_id=None,
        action="auth.login",
        target=f"user:{name}" if name is not None else "gitlab-token",
        success=False,
        details=refusal_details(refusal, reason="throttled", address=client.address),
    )
    raise refusal
