"""When a GitLab call may be sent again, and how long to wait first (pure; no I/O).

The rule, in order:

1. **Never sent** — a connection refused, a failed TLS handshake, a connect or pool time-out:
   GitLab never saw the request, so *any* method is retried, including a merge.
2. **429 Too Many Requests** — GitLab's rate limiter refuses before the endpoint runs, so any
   method is retried after ``Retry-After`` (seconds or an HTTP date). If GitLab asks for longer
   than ``max_retry_after`` we do not block a worker: ``GitLabRateLimited`` is raised at once
   carrying the wait, and the caller reschedules.
3. **Ambiguous** — a 500/502/503/504, a read time-out, a dropped connection after sending:
   GitLab may have acted. Retried only when repeating the call cannot do harm: idempotent
   methods (GET, HEAD, OPTIONS, PUT-less reads, DELETE) and POST/PUT calls the caller marks
   ``retry_safe`` because they *set* state (labels, assignees, title, cancel a pipeline, verify
   locks). A merge, a note, a new branch or commit, a new pipeline are **not** retried: the
   engine re-reads the merge request and decides again (a lost merge response must not become a
   second merge attempt or a duplicate comment).
4. Anything else (4xx) is an answer, not a failure: it is raised as a typed error.

Waits grow exponentially (``backoff * 2**attempt``, capped by ``max_backoff``) with "equal
jitter" (half fixed, half random) so that many workers do not retry in step.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
TOO_MANY_REQUESTS = 429
# RFC 9110 delta-seconds are ASCII digits; a fraction is tolerated (some proxies send one).
_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a GitLab call is repeated."""

    max_retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def backoff_delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based), with equal jitter."""
        ceiling: float = min(self.max_backoff, self.backoff * (2**attempt))
        draw: float = (rng or _RNG).random()
        return ceiling / 2 + draw * ceiling / 2


_RNG = random.Random()  # noqa: S311 - jitter, not cryptography


def may_retry_ambiguous(method: str, *, retry_safe: bool) -> bool:
    """Whether a call that GitLab may have executed can be sent again."""
    return method.upper() in IDEMPOTENT_METHODS or retry_safe


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if bad.

    A date in the past means "now" (0). Negative or non-numeric values are ignored (None), so
    the caller falls back to its own backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 9110 dates are GMT
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())
