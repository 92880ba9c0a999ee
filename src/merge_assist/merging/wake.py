"""Waking a project's worker after something it should look at changed (a priority, say).

The database holds the change; the event only makes the worker look now rather than at its
next periodic reconcile, so a wake-up that cannot be sent is logged and otherwise harmless.
The topic and payload are the workers' (``workers.wakeups``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from merge_assist.kit.bus import EventBus
from merge_assist.workers.wakeups import BUS_EXTRAS_KEY, publish_wake


async def wake_project(extras: Mapping[str, Any], project_id: int) -> bool:
    """Wake the owner of ``project_id`` if this process has a bus; whether it was sent.

    Call it after the commit, so the worker reads what woke it.
    """
    bus: EventBus | None = extras.get(BUS_EXTRAS_KEY)
    if bus is None:
        return False
    return await publish_wake(bus, project_id, "priority")
