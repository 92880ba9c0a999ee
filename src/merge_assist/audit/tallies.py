"""Refused sign-ins, aggregated: unauthenticated traffic cannot grow the audit log without bound.

A refused sign-in (``auth.login`` with ``success`` false) is keyed by its target, the client's
address and its reason, in fixed windows of ``audit_refusal_window_seconds`` (aligned to the
epoch). The first refusal of a key in a window is an audit entry as before; the next ones are
only counted (``audit_refusal_tallies``). When the window has passed, the watcher's
housekeeping appends one ``auth.login.repeated`` entry with the count (when there were repeats)
and forgets the tally. Throttled refusals ("too many failed sign-ins") are keyed by address
alone, whatever user name they try, so guessing names does not multiply the entries either.

So each address adds at most two entries per key and window: for one user name, one address
and one reason, at most two entries per window, however many requests it sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import repository, service
from merge_assist.audit.models import AuditEntry, RefusalTally
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import settings_of

TALLIED_ACTIONS = frozenset({"auth.login"})
SUMMARY_SUFFIX = ".repeated"
ANY_TARGET = "*"
DEFAULT_WINDOW_SECONDS = 900

WriteEntry = Callable[[dict[str, Any]], Awaitable[AuditEntry]]


def is_tallied(action: str, success: bool) -> bool:
    """Whether a refusal of ``action`` is aggregated per window instead of logged each time."""
    return not success and action in TALLIED_ACTIONS


def window_start(moment: datetime, seconds: int) -> datetime:
    """The start of the fixed window holding ``moment`` (windows aligned to the epoch)."""
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _window_seconds(session: AsyncSession) -> int:
    settings = settings_of(session)
    return settings.audit_refusal_window_seconds if settings else DEFAULT_WINDOW_SECONDS


async def record_refusal(
    session: AsyncSession, *, action: str, target: str, details: dict[str, Any], write: WriteEntry
) -> AuditEntry | None:
    """Log the first refusal of its key in this window (through ``write``); count the others.

    Returns the entry written, or ``None`` when the refusal was only counted.
    """
    seconds = _window_seconds(session)
    now = utcnow()
    reason = str(details.get("reason") or details.get("refusal") or "")[:64]
    tally = RefusalTally(
        action=action,
        target=(ANY_TARGET if reason == "throttled" else target)[:255],
        address=str(details.get("address") or "")[:64],
        reason=reason,
        window_start=window_start(now, seconds),
        count=1,
        first_entry_id=None,
        last_at=now,
    )
    if not await repository.open_tally(session, tally):
        await repository.bump_tally(session, tally)
        return None
    window_end = tally.window_start + timedelta(seconds=seconds)
    entry = await write(
        {**details, "repeats_counted_until": window_end.isoformat(timespec="seconds")}
    )
    await repository.set_tally_entry(session, tally, entry.id)
    return entry


async def close_windows(session: AsyncSession, *, now: datetime, window_seconds: int) -> int:
    """Sum up every tally whose window has passed; returns the summary entries appended."""
    written = 0
    current = window_start(now, window_seconds)
    for tally in await repository.closed_tallies(session, current):
        if tally.count > 1:
            await service.record(
                session,
                actor_id=None,
                actor_name="system",
                action=tally.action + SUMMARY_SUFFIX,
                success=False,
                target_type="address",
                target_id=tally.address or None,
                details={
                    "target": tally.target,
                    "reason": tally.reason,
                    "count": tally.count,
                    "first_entry_id": tally.first_entry_id,
                    "window_start": tally.window_start.isoformat(timespec="seconds"),
                    "window_seconds": window_seconds,
                    "last_at": tally.last_at.isoformat(timespec="seconds"),
                },
            )
            written += 1
        await repository.delete_tally(session, tally.id)
    return written
