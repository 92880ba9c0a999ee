"""Failures per key in a sliding window, in memory: refuse a key once it failed too often.

Used where nothing is stored per caller yet (an unauthenticated webhook delivery): each process
counts its own failures per client address, so a flood of bad tokens is answered 429 before
the server looks at a token or a body. The number of keys is bounded (the oldest is forgotten
first), so a scan from many addresses cannot grow memory without bound.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

DEFAULT_MAX_KEYS = 10_000


class FailureWindow:
    """At most ``max_failures`` failures per key within ``window_seconds``."""

    def __init__(
        self, max_failures: int, window_seconds: float, *, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Seconds until ``key`` may try again (None: it may now)."""
        moment = time.monotonic() if now is None else now
        failures = self._recent(key, moment)
        if failures is None or len(failures) < self.max_failures:
            return None
        return max(1, math.ceil(failures[0] + self.window_seconds - moment))

    def record(self, key: str, now: float | None = None) -> None:
        """Count one failure of ``key``."""
        moment = time.monotonic() if now is None else now
        failures = self._recent(key, moment)
        if failures is None:
            failures = deque()
            self._failures[key] = failures
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
        self._failures.move_to_end(key)
        failures.append(moment)
        while len(failures) > self.max_failures:
            failures.popleft()

    def _recent(self, key: str, moment: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= moment - self.window_seconds:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures
