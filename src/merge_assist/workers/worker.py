"""The worker: owns a fair share of the projects by lease and runs each one when it is due.

A project runs when its owner is woken (a wake-up on the bus: a webhook or the watcher), when
the last run asked to be looked at again (``next_check_at``), and at the latest every
``polling_interval_seconds`` of the project, so a lost wake-up only delays work. Every
scheduling pass (``tick``) records a heartbeat, renews the leases, takes unowned projects up
to ``ceil(active projects / live workers)``, gives back the surplus when more workers are
alive, and drops projects that were deactivated. One project's failure is logged and retried
later; it never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from merge_assist.ingest import service as inbox
from merge_assist.kit.bus import BusUnavailable, EventBus, Subscription
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, wake_topic
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.metrics import LEASE_CHANGES
from merge_assist.kit.web import AppResources
from merge_assist.workers import heartbeats, leases
from merge_assist.workers.leases import Lease
from merge_assist.workers.runs import ProjectRun, ProjectRunOutcome, StillOwner
from merge_assist.workers.schedule import active_projects

log = logging.getLogger(__name__)

MIN_GAP_SECONDS = 1.0
"""Runs of one project start at least this far apart unless woken (no busy loop)."""
RETRY_SECONDS = 30.0
"""A failed run is retried after this long (or the polling interval, if shorter)."""
BUS_RETRY_SECONDS = 5.0
STOP_GRACE_SECONDS = 10.0
"""On stop, running projects get this long to finish their current step."""
SETTLE_CAP_FACTOR = 6.0
"""A woken project runs once no further wake-up came for ``settings.wake_settle_seconds``: a
burst of webhooks (our own label changes come back as MR updates, one per MR) makes one run,
not one each; a steady stream delays a run by this many settle times at most."""


@dataclass(eq=False)
class OwnedProject:
    """A project this worker holds the lease of, and its schedule."""

    lease: Lease
    polling_seconds: int
    next_due: datetime
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    running: bool = False
    dropped: bool = False
    last_wake: float | None = None  # time.monotonic() of the last wake-up from the bus
    subscription: Subscription | None = None  # the wake-up listener's, while it reads

    @property
    def project_id(self) -> int:
        """The project's id."""
        return self.lease.project_id


class Worker:
    """One worker process's scheduler (``run`` until stopped, or ``tick`` step by step)."""

    role = "worker"

    def __init__(
        self,
        res: AppResources,
        worker_id: str,
        run: ProjectRun,
        *,
        clock: Callable[[], datetime] = utcnow,
        bus: EventBus | None = None,
        wake_settle_seconds: float | None = None,
    ) -> None:
        self.res = res
        self.worker_id = worker_id
        self._run = run
        self._clock = clock
        self._bus = bus or bus_of(res)
        self._settle_seconds = (
            res.settings.wake_settle_seconds if wake_settle_seconds is None else wake_settle_seconds
        )
        self.owned: dict[int, OwnedProject] = {}
        self._stopping = False
        self._stopped = False

    @property
    def tick_seconds(self) -> float:
        """How often ``run`` makes a scheduling pass."""
        settings = self.res.settings
        return float(min(settings.lease_renew_seconds, settings.heartbeat_seconds))

    # the scheduling pass -------------------------------------------------------------------

    async def tick(self) -> None:
        """Heartbeat, renew, rebalance, and wake the projects whose time has come."""
        if self._stopping:
            return
        now = self._clock()
        async with unit_of_work(self.res.sessions) as session:
            await heartbeats.beat(session, self.worker_id, self.role, now=now)
        await self._renew(now)
        await self._rebalance(now)
        for owned in self.owned.values():
            if now >= owned.next_due and not owned.running:
                owned.wake.set()

    async def _renew(self, now: datetime) -> None:
        seconds = self.res.settings.lease_seconds
        for owned in list(self.owned.values()):
            async with unit_of_work(self.res.sessions) as session:
                renewed = await leases.renew(session, owned.lease, now=now, seconds=seconds)
            if renewed is None:
                log.warning("lost a project lease", extra={"project_id": owned.project_id})
                LEASE_CHANGES.labels("lost").inc()
                await self._drop(owned, release=False)
            else:
                owned.lease = renewed

    async def _rebalance(self, now: datetime) -> None:
        settings = self.res.settings
        async with self.res.sessions() as session:
            projects = await active_projects(session)
            alive = await heartbeats.live_workers(
                session, now=now, heartbeat_seconds=settings.heartbeat_seconds, role=self.role
            )
            taken = await leases.held_by_others(session, self.worker_id, now=now)
        for owned in list(self.owned.values()):
            if owned.project_id not in projects:  # deactivated or deleted
                await self._drop(owned, release=True)
        share = math.ceil(len(projects) / max(alive, 1))
        for project_id, polling in projects.items():
            if len(self.owned) >= share:
                break
            if project_id not in self.owned and project_id not in taken:
                await self._take(project_id, polling, now)
        surplus = len(self.owned) - share
        for owned in [o for o in self.owned.values() if not o.running][: max(surplus, 0)]:
            log.info("handing a project to another worker", extra={"project_id": owned.project_id})
            await self._drop(owned, release=True)
        for project_id, polling in projects.items():
            if project_id in self.owned:
                self.owned[project_id].polling_seconds = polling

    async def _take(self, project_id: int, polling: int, now: datetime) -> None:
        async with unit_of_work(self.res.sessions) as session:
            lease = await leases.acquire(
                session,
                project_id,
                self.worker_id,
                now=now,
                seconds=self.res.settings.lease_seconds,
            )
        if lease is None:
            return  # another worker was quicker
        log.info("took a project", extra={"project_id": project_id, "token": lease.token})
        LEASE_CHANGES.labels("acquired").inc()
        due = now + timedelta(seconds=polling)
        owned = OwnedProject(lease=lease, polling_seconds=polling, next_due=due)
        owned.wake.set()  # a new owner reconciles at once: wake-ups may have been missed
        self.owned[project_id] = owned
        owned.tasks.append(asyncio.create_task(self._serve(owned), name=f"project-{project_id}"))
        owned.tasks.append(asyncio.create_task(self._listen(owned), name=f"wake-{project_id}"))

    async def _drop(self, owned: OwnedProject, *, release: bool) -> None:
        """Stop serving and listening for ``owned``; ``release`` its lease if still ours.

        Called from the project's own serving task (a run that lost the lease), that task is
        left to end by itself: ``dropped`` ends its loop.
        """
        owned.dropped = True
        if self.owned.get(owned.project_id) is owned:
            del self.owned[owned.project_id]
        others = [task for task in owned.tasks if task is not asyncio.current_task()]
        if owned.subscription is not None:
            # Closing ends the listener's reads even if a library loses the cancellation
            # below (redis-py sends through asyncio.wait_for, which on Python 3.11 returns a
            # finished write's result instead of raising CancelledError).
            await owned.subscription.close()
        for task in others:
            task.cancel()
        for task in others:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if release:
            async with unit_of_work(self.res.sessions) as session:
                released = await leases.release(session, owned.lease, now=self._clock())
            if released:
                LEASE_CHANGES.labels("released").inc()

    # serving one project -------------------------------------------------------------------

    async def _serve(self, owned: OwnedProject) -> None:
        """Run the project each time it is woken or due, until dropped."""
        while not owned.dropped:
            wait = max(0.0, (owned.next_due - self._clock()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(owned.wake.wait(), wait)
            await self._settle(owned)
            owned.wake.clear()
            if owned.dropped or self._stopping:
                return
            await self.run_once(owned)

    async def _settle(self, owned: OwnedProject) -> None:
        """Before a run woken from the bus, wait until the burst of wake-ups is over (see
        ``settings.wake_settle_seconds``): the run covers all of it. Due runs start at once."""
        deadline = time.monotonic() + SETTLE_CAP_FACTOR * self._settle_seconds
        while not (owned.dropped or self._stopping) and owned.last_wake is not None:
            now = time.monotonic()
            remaining = min(owned.last_wake + self._settle_seconds, deadline) - now
            if remaining <= 0:
                return
            await asyncio.sleep(remaining)

    async def run_once(self, owned: OwnedProject) -> ProjectRunOutcome | None:
        """Run the project once and schedule its next run; failures are logged, not raised."""
        started = self._clock()
        owned.running = True
        outcome: ProjectRunOutcome | None = None
        try:
            async with unit_of_work(self.res.sessions) as session:
                # Everything received so far is covered by this run (it re-reads GitLab).
                await inbox.mark_processed(
                    session, owned.project_id, received_until=started, now=started
                )
            outcome = await self._run(self.res, owned.project_id, self._still_owner(owned))
        except Exception:
            log.exception("a project run failed", extra={"project_id": owned.project_id})
        finally:
            owned.running = False
        self._forget_seen_wakes(owned, outcome)
        owned.next_due = self._next_due(owned, outcome)
        if outcome is not None and outcome.lost_lease and not owned.dropped:
            log.warning("a run lost its project's lease", extra={"project_id": owned.project_id})
            LEASE_CHANGES.labels("lost").inc()
            # Like a failed renewal: stop listening too, so the new owner gets the wake-ups.
            await self._drop(owned, release=False)
        return outcome

    def _forget_seen_wakes(self, owned: OwnedProject, outcome: ProjectRunOutcome | None) -> None:
        """Drop the wake-ups received during the run before its last look at GitLab: they
        announced changes (usually the run's own label updates) that this look already saw."""
        seen = None if outcome is None else outcome.observed_at_monotonic
        if seen is None or owned.last_wake is None or self._stopping:
            return
        if owned.last_wake < seen:
            owned.wake.clear()

    def _next_due(self, owned: OwnedProject, outcome: ProjectRunOutcome | None) -> datetime:
        now = self._clock()
        if outcome is None:
            return now + timedelta(seconds=min(RETRY_SECONDS, owned.polling_seconds))
        due = now + timedelta(seconds=owned.polling_seconds)
        if outcome.next_check_at is not None:
            due = min(due, outcome.next_check_at)
        return max(due, now + timedelta(seconds=MIN_GAP_SECONDS))

    def _still_owner(self, owned: OwnedProject) -> StillOwner:
        async def still_owner() -> bool:
            if owned.dropped or self._stopping:
                return False
            async with self.res.sessions() as session:
                return await leases.holds(session, owned.lease, now=self._clock())

        return still_owner

    async def _listen(self, owned: OwnedProject) -> None:
        """Turn the project's wake-ups on the bus into runs (acked once the run is asked for)."""
        topic = wake_topic(owned.project_id)
        while not owned.dropped:
            try:
                async with self._bus.subscribe(topic, WAKE_GROUP, self.worker_id) as subscription:
                    owned.subscription = subscription
                    if owned.dropped:  # dropped while subscribing
                        return
                    async for delivery in subscription:
                        owned.last_wake = time.monotonic()
                        owned.wake.set()
                        await delivery.ack()
                return  # the bus or the subscription was closed
            except BusUnavailable:
                log.warning("the event bus is unreachable", extra={"project_id": owned.project_id})
                await asyncio.sleep(BUS_RETRY_SECONDS)

    # life cycle ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Make scheduling passes until ``stop`` is set, then stop gracefully."""
        try:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    # The database may be away for a moment; the leases outlive a few passes.
                    log.exception("a worker scheduling pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.tick_seconds)
        finally:
            await self.stop()

    async def stop(self) -> None:
        """Let running projects finish their step, release every lease, record the stop."""
        if self._stopped:
            return
        self._stopping = True
        for owned in self.owned.values():
            owned.wake.set()  # an idle project's loop ends at once
        running = [t for o in self.owned.values() for t in o.tasks[:1] if o.running]
        if running:
            await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
        for owned in list(self.owned.values()):
            try:
                await self._drop(owned, release=True)
            except Exception:
                log.exception("could not release a lease", extra={"project_id": owned.project_id})
        async with unit_of_work(self.res.sessions) as session:
            await heartbeats.stopped(session, self.worker_id, now=self._clock())
        self._stopped = True

    async def abandon(self) -> None:
        """Stop at once without releasing anything, as a crashed process would (its leases
        lapse and other workers take the projects over)."""
        self._stopping = True
        self._stopped = True
        tasks = [task for owned in self.owned.values() for task in owned.tasks]
        for owned in self.owned.values():
            owned.dropped = True
            if owned.subscription is not None:  # only stops our reads; acks nothing
                await owned.subscription.close()
        self.owned.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
