"""The dashboard's queue statistics, computed in Python over bounded reads.

Computing here rather than in SQL keeps one code path for SQLite and PostgreSQL (no
``percentile_cont``, no dialect date truncation). The window is ``hours`` whole UTC hours
ending with the current one, so ``merged_per_hour`` has exactly ``hours`` entries.

- time to merge: ``merged_at - recognised_at`` of the MRs merged in the window; the median and
  the 95th percentile by linear interpolation between closest ranks (numpy's default).
- failures by reason: ``struck`` and ``rejected`` history entries in the window, grouped by
  kind (pipeline failed, conflict, batch or train culprit, approvals, discussions, draft,
  timeout, other: ``failure_kinds``), each with the raw messages it was made of.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.principal import Principal
from merge_assist.merging.api import queries
from merge_assist.merging.api.failure_kinds import LABELS, kinds_of
from merge_assist.merging.schemas import (
    DurationStats,
    HourCount,
    MessageCount,
    QueueStats,
    ReasonCount,
)
from merge_assist.projects import service as projects

FAILURE_EVENTS = ("struck", "rejected")
REASON_KEYS = ("reason", "cause", "reasons")
UNKNOWN_REASON = "unknown"
MAX_REASON_CHARS = 200
MAX_MESSAGES = 10
MAX_WINDOW_HOURS = 24 * 31
HOUR = timedelta(hours=1)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of non-empty, ascending ``ordered`` (linear interpolation)."""
    if not ordered:
        raise ValueError("percentile of no values")
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def time_to_merge(pairs: Iterable[tuple[datetime | None, datetime]]) -> DurationStats:
    """Median and p95 seconds from recognised to merged (MRs never recognised are skipped)."""
    seconds = sorted(
        max(0.0, (merged - recognised).total_seconds())
        for recognised, merged in pairs
        if recognised is not None
    )
    if not seconds:
        return DurationStats(count=0, median_seconds=None, p95_seconds=None)
    # Milliseconds are plenty, and rounding keeps float noise (3974.9999...) out of the API.
    return DurationStats(
        count=len(seconds),
        median_seconds=round(percentile(seconds, 0.5), 3),
        p95_seconds=round(percentile(seconds, 0.95), 3),
    )


def start_of_hour(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC hour."""
    return moment.replace(minute=0, second=0, microsecond=0)


def merged_per_hour(
    merged: Iterable[datetime], first_hour: datetime, hours: int
) -> list[HourCount]:
    """Merges per UTC hour from ``first_hour`` for ``hours`` hours, zero-filled."""
    counts = Counter(start_of_hour(moment) for moment in merged)
    return [
        HourCount(hour=first_hour + index * HOUR, merged=counts.get(first_hour + index * HOUR, 0))
        for index in range(hours)
    ]


def reason_of(details: Mapping[str, Any]) -> str:
    """Why a history entry says an MR was struck or rejected (its first raw message)."""
    for key in REASON_KEYS:
        value = details.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_REASON_CHARS]
    return UNKNOWN_REASON


def failures_by_reason(details: Iterable[Mapping[str, Any]]) -> list[ReasonCount]:
    """Counts per kind of failure (``failure_kinds``), most frequent first (ties by kind), each
    with its raw messages, most frequent first (at most ``MAX_MESSAGES``)."""
    entries: Counter[str] = Counter()
    messages: dict[str, Counter[str]] = {}
    for entry in details:
        for kind, found in kinds_of(entry).items():
            entries[kind] += 1
            messages.setdefault(kind, Counter()).update(found)
    return [
        ReasonCount(
            reason=LABELS[kind],
            kind=kind,
            count=count,
            messages=[
                MessageCount(message=message, count=times)
                for message, times in sorted(
                    messages[kind].items(), key=lambda item: (-item[1], item[0])
                )[:MAX_MESSAGES]
            ],
        )
        for kind, count in sorted(entries.items(), key=lambda item: (-item[1], item[0]))
    ]


async def queue_stats(
    session: AsyncSession, principal: Principal, project_id: int, *, hours: int, now: datetime
) -> QueueStats:
    """The project's statistics over the last ``hours`` UTC hours (the current one included)."""
    await projects.get_visible_project(session, principal, project_id)
    first_hour = start_of_hour(now) - (hours - 1) * HOUR
    merged = await queries.merged_since(session, project_id, first_hour)
    failures = await queries.failure_details_since(session, project_id, first_hour, FAILURE_EVENTS)
    return QueueStats(
        window_hours=hours,
        merged_per_hour=merged_per_hour((at for _, at in merged), first_hour, hours),
        time_to_merge=time_to_merge(merged),
        failures_by_reason=failures_by_reason(failures),
    )
