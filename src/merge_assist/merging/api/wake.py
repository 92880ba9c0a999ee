"""Waking a project's worker after something it should look at changed (a priority, say).

The database holds the change; the event only makes the worker look now rather than at its
next periodic reconcile, so a wake-up that cannot be sent is logged and otherwise harmless.
The topic and payload are the workers' (``workers.wakeups``); the bus is the process's
(``bus_of``), so an API process without a worker wakes the owner through Redis.
"""

from __future__ import annotations

from merge_assist.kit.web import AppResources
from merge_assist.workers.wakeups import WakeReason, bus_of, publish_wake


async def wake_project(res: AppResources, project_id: int, reason: WakeReason = "priority") -> bool:
    """Wake the owner of ``project_id``; whether the bus took the wake-up.

    Call it after the commit, so the worker reads what woke it.
    """
    return await publish_wake(bus_of(res), project_id, reason)
