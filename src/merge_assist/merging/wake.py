"""Waking a project's worker after something it should look at changed (a priority, say).

The database holds the change; the event only makes the worker look now rather than at its
next periodic reconcile, so a wake-up that cannot be sent is logged and otherwise harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from merge_assist.kit.bus import BusError, EventBus

log = logging.getLogger(__name__)

BUS_EXTRAS_KEY = "bus"  # where the app keeps its ``EventBus`` in ``AppResources.extras``
WAKE_TOPIC = "project.wake"  # payload: {"project_id": int}


async def wake_project(extras: Mapping[str, Any], project_id: int) -> bool:
    """Publish ``project.wake`` for ``project_id`` if the app has a bus; whether it was sent.

    Call it after the commit, so the worker reads what woke it.
    """
    bus: EventBus | None = extras.get(BUS_EXTRAS_KEY)
    if bus is None:
        return False
    try:
        await bus.publish(WAKE_TOPIC, {"project_id": project_id})
    except (BusError, RuntimeError):  # unreachable or closed: the reconcile covers it
        log.warning("project wake-up not sent", extra={"project_id": project_id})
        return False
    return True
