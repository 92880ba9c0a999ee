"""Deduplication and rate limiting, pure: which incidents open or resolve, what may be sent.

An incident opens when its condition's key appears and none of that key is open; it resolves
when the key is gone. Each opening sends one "firing" notice, each resolution one "resolved"
notice: one of each per incident, however many passes see the condition. Each channel sends at
most ``per_hour`` notices in any hour; the rest are recorded as ``rate_limited``, not sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from merge_assist.health.alerts.rules import Condition


class NoticeKind(StrEnum):
    firing = "firing"
    resolved = "resolved"
    test = "test"


class DeliveryStatus(StrEnum):
    sent = "sent"
    failed = "failed"
    rate_limited = "rate_limited"


@dataclass(frozen=True)
class Transitions:
    """What a pass changes: conditions to open as incidents, open incidents (ids) to resolve."""

    opening: tuple[Condition, ...]
    resolving: tuple[int, ...]


def transitions(open_by_key: Mapping[str, int], conditions: Mapping[str, Condition]) -> Transitions:
    """Compare the open incidents (id by key) with the conditions true now (by key)."""
    return Transitions(
        opening=tuple(conditions[key] for key in sorted(set(conditions) - set(open_by_key))),
        resolving=tuple(sorted(open_by_key[key] for key in set(open_by_key) - set(conditions))),
    )


@dataclass(frozen=True)
class Notice:
    """What one notification says (the same on every channel)."""

    kind: NoticeKind
    subject: str
    message: str
    incident_id: int | None = None


@dataclass(frozen=True)
class Planned:
    """A notice on a channel, and whether the channel's hourly budget lets it go out."""

    channel: str
    notice: Notice
    allowed: bool


def plan_deliveries(
    notices: Sequence[Notice],
    channels: Sequence[str],
    sent_last_hour: Mapping[str, int],
    per_hour: int,
) -> list[Planned]:
    """Every notice on every channel, in order; those past a channel's budget not allowed."""
    used = {channel: sent_last_hour.get(channel, 0) for channel in channels}
    planned = []
    for notice in notices:
        for channel in channels:
            allowed = used[channel] < per_hour
            if allowed:
                used[channel] += 1
            planned.append(Planned(channel, notice, allowed))
    return planned
