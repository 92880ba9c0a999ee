"""A project hook's failure state: GitLab's auto-disabling (pure: no I/O).

GitLab (``app/models/concerns/web_hooks/auto_disabling.rb``, 17.x/18.x) counts a hook's
consecutive failed deliveries (``recent_failures``; a 2xx or 3xx answer resets it). From the
4th failure in a row the hook is **temporarily disabled** until ``disabled_until``: 1 minute,
doubling with each further failure, at most 1 day; events that happen meanwhile are not sent.
Once that time has passed the next event is sent again. On the 40th failure in a row it is
**permanently disabled** (``alert_status`` ``disabled``) until someone re-enables it. The
hooks API shows ``alert_status`` (``executable``, ``temporarily_disabled``, ``disabled``) and
``disabled_until``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

TEMPORARILY_DISABLED_FAILURE_THRESHOLD = 3
PERMANENTLY_DISABLED_FAILURE_THRESHOLD = 39
INITIAL_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(days=1)
BACKOFF_GROWTH_FACTOR = 2.0


@dataclass
class HookHealth:
    """``recent_failures`` and ``disabled_until`` of one hook, with GitLab's rules."""

    recent_failures: int = 0
    disabled_until: datetime | None = None

    def temporarily_disabled(self, now: datetime) -> bool:
        """Failing, and still inside its back-off window."""
        return (
            self.disabled_until is not None
            and self.disabled_until >= now
            and TEMPORARILY_DISABLED_FAILURE_THRESHOLD
            < self.recent_failures
            <= PERMANENTLY_DISABLED_FAILURE_THRESHOLD
        )

    @property
    def permanently_disabled(self) -> bool:
        """Failed 40 times in a row: no event is sent until it is re-enabled."""
        return self.recent_failures > PERMANENTLY_DISABLED_FAILURE_THRESHOLD

    def executable(self, now: datetime) -> bool:
        """Whether an event happening ``now`` is sent to the hook."""
        return not self.temporarily_disabled(now) and not self.permanently_disabled

    def alert_status(self, now: datetime) -> str:
        """``executable``, ``temporarily_disabled`` or ``disabled``, as the hooks API shows."""
        if self.temporarily_disabled(now):
            return "temporarily_disabled"
        if self.permanently_disabled:
            return "disabled"
        return "executable"

    def enable(self) -> None:
        """A delivery succeeded (or an admin re-enabled the hook): forget the failures."""
        self.recent_failures, self.disabled_until = 0, None

    def backoff(self, now: datetime) -> None:
        """A delivery failed: count it and, past the grace of 3, disable for a while."""
        if not self.executable(now):
            return
        failures = min(self.recent_failures + 1, PERMANENTLY_DISABLED_FAILURE_THRESHOLD + 1)
        if failures > TEMPORARILY_DISABLED_FAILURE_THRESHOLD:
            self.disabled_until = now + self._next_backoff()
        self.recent_failures = failures

    def _next_backoff(self) -> timedelta:
        # GitLab computes it from the count before this failure: 1 min on the 4th, then x2.
        exponent = self.recent_failures - TEMPORARILY_DISABLED_FAILURE_THRESHOLD
        seconds = INITIAL_BACKOFF.total_seconds() * BACKOFF_GROWTH_FACTOR**exponent
        return timedelta(
            seconds=min(max(seconds, INITIAL_BACKOFF.total_seconds()), MAX_BACKOFF.total_seconds())
        )


__all__ = [
    "PERMANENTLY_DISABLED_FAILURE_THRESHOLD",
    "TEMPORARILY_DISABLED_FAILURE_THRESHOLD",
    "HookHealth",
]
