"""Background roles inside another process: the worker and the watcher as asyncio tasks.

``merge-assist serve`` runs them in the API process (``run_background``); ``merge-assist
worker`` and ``merge-assist watcher`` run one each, on their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from merge_assist.kit.web import AppResources
from merge_assist.workers.heartbeats import new_worker_id
from merge_assist.workers.runs import ProjectRun
from merge_assist.workers.watcher import Watcher, WatcherDuty
from merge_assist.workers.worker import Worker

log = logging.getLogger(__name__)


@dataclass
class BackgroundRoles:
    """Running roles; ``stop()`` ends them gracefully (the worker releases its leases)."""

    stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Ask every role to stop and wait for them."""
        self.stop_event.set()
        for outcome in await asyncio.gather(*self.tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                log.error("a background role ended with an error", exc_info=outcome)


def start_background(
    res: AppResources,
    run: ProjectRun,
    *,
    worker: bool = True,
    watcher: bool = True,
    duties: Sequence[WatcherDuty] = (),
) -> BackgroundRoles:
    """Start the chosen roles as tasks of the running event loop (the watcher with ``duties``)."""
    roles = BackgroundRoles()
    if watcher:
        watching = Watcher(res, new_worker_id("watcher"), duties=duties)
        roles.tasks.append(asyncio.create_task(watching.run(roles.stop_event), name="watcher"))
    if worker:
        working = Worker(res, new_worker_id("worker"), run)
        roles.tasks.append(asyncio.create_task(working.run(roles.stop_event), name="worker"))
    return roles
