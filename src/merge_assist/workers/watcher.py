"""The watcher: wakes every active project's owner at least every polling interval.

It is what makes lost wake-ups harmless, and with a project's webhooks off it is the only
trigger. It also re-wakes projects whose inbox holds events nobody reconciled for a while (the
listener's wake-up was lost, e.g. the bus was down), and does the hourly housekeeping
(``workers/housekeeping.py``: the inbox, old sign-in records, repeated refusals).
Features above the workers add periodic *duties* (the alert evaluator, ``health/alerts``):
the composition root passes them in. Each is started as a task after every pass unless its last
run is still going, so a slow duty (an SMTP server timing out) never delays the wake-ups; a
failure is logged. A stopping watcher gives running duties ``DUTY_STOP_SECONDS`` to finish.
Two watchers only publish twice as many wake-ups; the owner runs the project either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

from merge_assist.ingest import service as inbox
from merge_assist.kit.bus import EventBus
from merge_assist.kit.bus.wake import bus_of, publish_wake
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.web import AppResources
from merge_assist.workers import heartbeats
from merge_assist.workers.housekeeping import housekeeping
from merge_assist.workers.schedule import active_projects

log = logging.getLogger(__name__)

INBOX_GRACE_SECONDS = 60.0
"""An inbox event unprocessed this long means its wake-up was lost."""
PRUNE_EVERY = timedelta(hours=1)

DUTY_STOP_SECONDS = 10.0
WatcherDuty = Callable[[AppResources, datetime], Awaitable[object]]
"""Periodic work a feature above the workers gives the watcher (it decides itself when due)."""


def due_for_reconcile(
    last_woken: Mapping[int, datetime], intervals: Mapping[int, int], now: datetime
) -> list[int]:
    """The projects never woken, or last woken at least their polling interval ago."""
    return [
        project_id
        for project_id, seconds in intervals.items()
        if project_id not in last_woken
        or now - last_woken[project_id] >= timedelta(seconds=seconds)
    ]


class Watcher:
    """Publishes reconcile wake-ups (``run`` until stopped, or ``tick`` step by step)."""

    role = "watcher"

    def __init__(
        self,
        res: AppResources,
        watcher_id: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        bus: EventBus | None = None,
        duties: Sequence[WatcherDuty] = (),
    ) -> None:
        self.res = res
        self._duties = tuple(duties)
        self._duty_runs: dict[int, asyncio.Task[None]] = {}
        self.watcher_id = watcher_id
        self._clock = clock
        self._bus = bus or bus_of(res)
        self._reconciled: dict[int, datetime] = {}
        self._inbox_woken: dict[int, datetime] = {}
        self._pruned_at: datetime | None = None

    async def tick(self) -> dict[int, str]:
        """One pass; returns the projects woken and why (``reconcile`` or ``inbox``)."""
        now = self._clock()
        async with unit_of_work(self.res.sessions) as session:
            await heartbeats.beat(session, self.watcher_id, self.role, now=now)
            intervals = await active_projects(session)
            stale = await inbox.projects_with_stale_events(
                session, now=now, grace_seconds=INBOX_GRACE_SECONDS
            )
        for known in (self._reconciled, self._inbox_woken):
            for project_id in set(known) - set(intervals):
                del known[project_id]  # deactivated: forget it
        woken: dict[int, str] = {}
        for project_id in due_for_reconcile(self._reconciled, intervals, now):
            if await publish_wake(self._bus, project_id, "reconcile"):
                self._reconciled[project_id] = now
                woken[project_id] = "reconcile"
        grace = {project_id: int(INBOX_GRACE_SECONDS) for project_id in stale}
        for project_id in due_for_reconcile(self._inbox_woken, grace, now):
            lost = project_id in intervals and project_id not in woken
            if lost and await publish_wake(self._bus, project_id, "inbox"):
                woken[project_id] = "inbox"
            self._inbox_woken[project_id] = now
        await self._prune(now)
        self._start_duties(now)
        return woken

    def _start_duties(self, now: datetime) -> None:
        for index, duty in enumerate(self._duties):
            running = self._duty_runs.get(index)
            if running is not None and not running.done():
                continue  # its last run is still going: skip this pass
            self._duty_runs[index] = asyncio.create_task(
                self._run_duty(duty, now), name=f"watcher-duty-{index}"
            )

    async def _run_duty(self, duty: WatcherDuty, now: datetime) -> None:
        try:
            await duty(self.res, now)
        except Exception:
            log.exception("a watcher duty failed", extra={"duty": getattr(duty, "__name__", "")})

    async def duties_settled(self, grace_seconds: float | None = None) -> None:
        """Wait for the duties' running passes (cancelled after ``grace_seconds``)."""
        running = [task for task in self._duty_runs.values() if not task.done()]
        if not running:
            return
        _done, pending = await asyncio.wait(running, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        await housekeeping(self.res, now)
        self._pruned_at = now

    async def run(self, stop: asyncio.Event) -> None:
        """Make passes every ``heartbeat_seconds`` until ``stop`` is set."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("a watcher pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.res.settings.heartbeat_seconds)
        finally:
            await self.duties_settled(DUTY_STOP_SECONDS)
            async with unit_of_work(self.res.sessions) as session:
                await heartbeats.stopped(session, self.watcher_id, now=self._clock())
