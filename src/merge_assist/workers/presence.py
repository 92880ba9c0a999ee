"""Presence of the serving processes: an ``api`` or ``listener`` process records heartbeats too.

Workers and the watcher beat in their own passes. The processes that only serve HTTP beat
here, so the health page lists every process of a deployment and shows a killed one as not
alive (its last heartbeat grows old) and a stopped one as stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.web import AppResources
from merge_assist.workers import heartbeats

log = logging.getLogger(__name__)


@dataclass
class ProcessPresence:
    """Beats as ``role`` every ``heartbeat_seconds`` from ``start()`` until ``stop()``."""

    res: AppResources
    role: str
    worker_id: str = ""
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.worker_id = self.worker_id or heartbeats.new_worker_id(self.role)

    def start(self) -> None:
        """Start beating in the running event loop."""
        self._task = asyncio.create_task(self._run(), name=f"{self.role} presence")

    async def stop(self) -> None:
        """Stop beating and record the graceful stop."""
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        try:
            while not self._stop.is_set():
                await self._record(stopped=False)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.res.settings.heartbeat_seconds)
        finally:
            await self._record(stopped=True)

    async def _record(self, *, stopped: bool) -> None:
        # A database hiccup must not end the process: the next beat tries again.
        try:
            async with unit_of_work(self.res.sessions) as session:
                if stopped:
                    await heartbeats.stopped(session, self.worker_id, now=utcnow())
                else:
                    await heartbeats.beat(session, self.worker_id, self.role, now=utcnow())
        except Exception:
            log.exception("recording the %s process's heartbeat failed", self.role)
