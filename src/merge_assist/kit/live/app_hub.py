"""The app's hub and its relay: made on first use and kept on the app's resources.

When the process's bus reaches other processes (Redis Streams), the relay registers itself
with the hub as it is made, so what this process publishes reaches every process's sockets; a
process serving sockets also starts the relay's reading (``start_live_relay``) and every process
flushes it on the way out (``close_live_relay``, before the bus is closed).
"""

from __future__ import annotations

from merge_assist.kit.bus.wake import bus_of
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.live.relay import LiveRelay, register_relay
from merge_assist.kit.web import AppResources


def hub_of(res: AppResources) -> UpdatesHub:
    """The app's hub (made on first use, with its relay when the bus reaches other processes)."""
    if res.live_hub is None:
        hub = UpdatesHub()
        register_relay(hub, bus_of(res))
        res.live_hub = hub
    return res.live_hub


async def start_live_relay(res: AppResources) -> None:
    """Feed this process's hub from the bus (a process serving sockets calls it at start)."""
    relay = hub_relay(res, create=True)
    if relay is not None:
        await relay.start()


async def close_live_relay(res: AppResources) -> None:
    """Flush and stop the process's relay, if it has one (before the bus is closed)."""
    relay = hub_relay(res, create=False)
    if relay is not None:
        await relay.close()


def hub_relay(res: AppResources, *, create: bool) -> LiveRelay | None:
    """The relay of the process's hub (the hub is made if ``create``)."""
    hub = hub_of(res) if create else res.live_hub
    relay = None if hub is None else hub.relay
    return relay if isinstance(relay, LiveRelay) else None
