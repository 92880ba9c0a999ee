"""What the auth feature forgets over time: old sign-in attempts and expired refresh tokens.

Called by the watcher's hourly housekeeping (``workers/housekeeping.py``):

- sign-in attempts older than ``login_attempts_retention_hours`` (and always older than the
  throttling window, which still needs them) — a flood of failed sign-ins no longer piles up
  until someone signs in successfully;
- refresh tokens ``refresh_token_retention_days`` after they expired, whether they were used,
  rotated or revoked. Until then a rotated-away token presented again still ends its sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth import repository
from merge_assist.kit.settings import Settings


@dataclass(frozen=True)
class Pruned:
    """How many rows were deleted."""

    login_attempts: int
    refresh_tokens: int


async def prune_sign_in_records(session: AsyncSession, settings: Settings, now: datetime) -> Pruned:
    """Delete attempts and refresh tokens past their retention (flushed, not committed)."""
    keep_attempts = max(
        timedelta(hours=settings.login_attempts_retention_hours),
        timedelta(seconds=settings.login_window_seconds),
    )
    attempts = await repository.delete_login_attempts_before(session, now - keep_attempts)
    tokens = await repository.delete_refresh_tokens_expired_before(
        session, now - timedelta(days=settings.refresh_token_retention_days)
    )
    return Pruned(login_attempts=attempts, refresh_tokens=tokens)
