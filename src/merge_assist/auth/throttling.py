"""Login throttling: when another attempt is allowed (pure; the service feeds it)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta


def seconds_until_allowed(
    failures: Iterable[datetime], *, limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds to wait before the next attempt, or None when it is allowed now.

    Blocked while ``limit`` failures lie inside the sliding ``window``; the wait ends when the
    oldest of the newest ``limit`` failures leaves it.
    """
    recent = sorted((at for at in failures if at > now - window), reverse=True)
    if len(recent) < limit:
        return None
    wait = (recent[limit - 1] + window - now).total_seconds()
    return max(1, math.ceil(wait))
