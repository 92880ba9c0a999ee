"""The sandbox clock: simulated time that can run faster than real time, pause, or jump.

Every part of the sandbox reads time from one ``SandboxClock`` so a benchmark can run an hour of
merge traffic in a minute (``speed=60``) and a test can freeze time (``speed=0``) and move it with
``advance()``. Sleepers wake early when the speed changes or time jumps, so nothing oversleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta

# A sleeper re-checks the clock at least this often (real seconds), a safety net only: wake-ups
# on speed changes and jumps are explicit.
_MAX_REAL_WAIT = 60.0


class SandboxClock:
    """Simulated time: ``monotonic()`` seconds since creation, scaled by ``speed``."""

    def __init__(self, speed: float = 1.0, *, start: datetime | None = None) -> None:
        _check_speed(speed)
        self._lock = threading.Lock()
        self._speed = speed
        self._anchor_real = time.monotonic()
        self._anchor_sim = 0.0
        self._epoch = (start or datetime.now(UTC)).astimezone(UTC)
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def speed(self) -> float:
        """Simulated seconds per real second (0 means time stands still)."""
        return self._speed

    def monotonic(self) -> float:
        """Simulated seconds elapsed since the clock was created."""
        with self._lock:
            return self._monotonic_locked()

    def now(self) -> datetime:
        """The simulated current time, timezone-aware UTC."""
        return self._epoch + timedelta(seconds=self.monotonic())

    def at(self, simulated_seconds: float) -> datetime:
        """The wall time of a ``monotonic()`` reading."""
        return self._epoch + timedelta(seconds=simulated_seconds)

    def set_speed(self, speed: float) -> None:
        """Change how fast simulated time runs from now on (no jump)."""
        _check_speed(speed)
        with self._lock:
            self._anchor_sim = self._monotonic_locked()
            self._anchor_real = time.monotonic()
            self._speed = speed
        self._wake_sleepers()

    def advance(self, seconds: float) -> None:
        """Jump simulated time forward by ``seconds`` (sleepers that are due wake up)."""
        if seconds < 0:
            raise ValueError("The sandbox clock cannot go backwards.")
        with self._lock:
            self._anchor_sim = self._monotonic_locked() + seconds
            self._anchor_real = time.monotonic()
        self._wake_sleepers()

    async def sleep(self, simulated_seconds: float) -> None:
        """Sleep until ``simulated_seconds`` of simulated time have passed."""
        await self.sleep_until(self.monotonic() + max(0.0, simulated_seconds))

    async def sleep_until(self, deadline: float) -> None:
        """Sleep until ``monotonic()`` reaches ``deadline``."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while True:
                # Clear before reading the clock so a jump in between still wakes us.
                event.clear()
                remaining = deadline - self.monotonic()
                if remaining <= 0:
                    return
                speed = self._speed
                real_wait = _MAX_REAL_WAIT if speed == 0 else min(remaining / speed, _MAX_REAL_WAIT)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=real_wait)
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _monotonic_locked(self) -> float:
        return self._anchor_sim + (time.monotonic() - self._anchor_real) * self._speed

    def _wake_sleepers(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            # Sleepers may live on another thread's loop (the server runs in a thread in tests).
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed; its sleeper is gone
                with self._lock:
                    self._waiters.discard((loop, event))


def _check_speed(speed: float) -> None:
    if not speed >= 0 or speed == float("inf"):
        raise ValueError("The clock speed must be a finite number of at least 0.")
