"""Wake-ups: "project N may have changed", published on the event bus to the project's owner.

Each project has its own topic (``project.<id>.wake``) read by the consumer group
``project-owner``; only the worker holding the project's lease reads it, so under Redis
Streams a wake-up waits in the group while the project changes hands and the next owner gets it.
A wake-up carries the project id and a reason, nothing else: the database is the source of
truth, and a lost wake-up is covered by the periodic reconcile.

Publish after the commit, so the owner reads what woke it: ``wake_after_commit`` queues the
wake-up on the session (sent once it commits, dropped on rollback); after a unit of work that
has already committed, ``await publish_wake(bus_of(res), project_id, reason)``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from merge_assist.kit.after_commit import after_commit
from merge_assist.kit.bus import BusError, EventBus, bus_from_settings
from merge_assist.kit.web import AppResources

log = logging.getLogger(__name__)

WAKE_GROUP = "project-owner"
WakeReason = Literal["webhook", "reconcile", "inbox", "priority", "config"]

_SENDING: set[asyncio.Task[bool]] = set()  # wake-ups on their way (asyncio keeps weak refs)


def wake_topic(project_id: int) -> str:
    """The bus topic that wakes the owner of ``project_id``."""
    return f"project.{int(project_id)}.wake"


def bus_of(res: AppResources) -> EventBus:
    """The process's event bus (built from the settings on first use, then shared)."""
    if res.bus is None:
        res.bus = bus_from_settings(res.settings)
    return res.bus


async def publish_wake(bus: EventBus, project_id: int, reason: WakeReason) -> bool:
    """Wake the project's owner; False (logged) when the bus could not take the event.

    Never raises for a bus failure: the caller's work is already committed, and the watcher's
    reconcile wakes the project later anyway.
    """
    try:
        await bus.publish(wake_topic(project_id), {"project_id": project_id, "reason": reason})
    except (BusError, RuntimeError) as exc:
        log.warning(
            "could not publish a wake-up; the periodic reconcile will cover it",
            extra={"project_id": project_id, "reason": reason, "error": type(exc).__name__},
        )
        return False
    return True


def wake_after_commit(
    session: AsyncSession, res: AppResources, project_id: int, reason: WakeReason
) -> None:
    """Wake the project's owner once ``session`` commits (nothing is sent if it rolls back).

    The wake-up is sent by a task started at the commit, so the commit never waits for the bus.
    """
    bus = bus_of(res)

    def send(_sync: SyncSession) -> None:
        task = asyncio.get_running_loop().create_task(publish_wake(bus, project_id, reason))
        _SENDING.add(task)
        task.add_done_callback(_SENDING.discard)

    after_commit(session, send)
