"""Wake-ups: "project N may have changed", published on the event bus to the project's owner.

Each project has its own topic (``project.<id>.wake``) read by the consumer group
``project-owner``; only the worker holding the project's lease reads it, so under Redis
Streams a wake-up waits in the group while the project changes hands and the next owner gets it.
A wake-up carries the project id and a reason, nothing else: the database is the source of
truth, and a lost wake-up is covered by the periodic reconcile.
"""

from __future__ import annotations

import logging
from typing import Literal

from merge_assist.kit.bus import BusError, EventBus, bus_from_settings
from merge_assist.kit.web import AppResources

log = logging.getLogger(__name__)

BUS_EXTRAS_KEY = "bus"
WAKE_GROUP = "project-owner"
WakeReason = Literal["webhook", "reconcile", "inbox", "priority", "config"]


def wake_topic(project_id: int) -> str:
    """The bus topic that wakes the owner of ``project_id``."""
    return f"project.{int(project_id)}.wake"


def bus_of(res: AppResources) -> EventBus:
    """The process's event bus (built from the settings on first use, then shared)."""
    bus: EventBus | None = res.extras.get(BUS_EXTRAS_KEY)
    if bus is None:
        bus = bus_from_settings(res.settings)
        res.extras[BUS_EXTRAS_KEY] = bus
    return bus


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
