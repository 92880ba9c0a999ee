"""Live events across processes: what any process publishes reaches every process's sockets.

Used when the event bus reaches other processes (Redis Streams). A hub with a relay does not
deliver to its own sockets when a session commits: the relay appends the event to the bus topic
``live.events`` (in order, from one sender task), and every process that serves sockets reads
that topic in a consumer group of its own (``live-<host>-<pid>-<random>``, so every process
gets every event) and hands each event to its hub's sockets once. A process that publishes and
serves sockets (``serve`` with Redis) hears its own events through the bus like the others, so
no socket gets an event twice. Who may see an event (its ``user_ids``) travels with it and is
applied by the receiving hub. The relay registers itself with the hub (``register_relay`` sets
``hub.relay``): the hub knows only the ``LiveEventRelay`` protocol, never this module.

Live events, like wake-ups, are hints: the dashboard reloads what it shows on reconnect, so an
event lost while Redis is away is logged and dropped, never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
from typing import Any

from merge_assist.kit.bus import BusError, BusUnavailable, EventBus, InProcessBus, Subscription
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.hub import UpdatesHub

log = logging.getLogger(__name__)

LIVE_TOPIC = "live.events"
RETRY_SECONDS = 2.0
FLUSH_SECONDS = 5.0
"""On close, events still waiting to be sent get this long."""


def register_relay(hub: UpdatesHub, bus: EventBus) -> LiveRelay | None:
    """Give ``hub`` a relay when ``bus`` reaches other processes (``hub.relay``); the relay,
    or None when the bus is this process's own (then the hub delivers directly)."""
    if isinstance(bus, InProcessBus):
        return None
    hub.relay = LiveRelay(bus, hub)
    return hub.relay


def _process_group() -> str:
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:60] or "host"
    return f"live-{host}-{os.getpid()}-{secrets.token_hex(4)}"


def encode(live_event: LiveEvent) -> dict[str, Any]:
    """The bus payload of ``live_event`` (its audience included)."""
    users = None if live_event.user_ids is None else sorted(live_event.user_ids)
    return {"type": live_event.type, "data": dict(live_event.data), "user_ids": users}


def decode(payload: dict[str, Any]) -> LiveEvent:
    """The event of a bus payload; ``ValueError`` if it is not one."""
    kind, data, users = payload.get("type"), payload.get("data"), payload.get("user_ids")
    if not isinstance(kind, str) or not isinstance(data, dict):
        raise ValueError("not a live event")
    if users is not None and not isinstance(users, list):
        raise ValueError("not a live event")
    return LiveEvent(kind, data, None if users is None else frozenset(int(u) for u in users))


class LiveRelay:
    """Sends a process's live events over the bus, and (once started) feeds its hub."""

    def __init__(self, bus: EventBus, hub: UpdatesHub, *, group: str | None = None) -> None:
        self._bus = bus
        self._hub = hub
        self.group = group or _process_group()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outbox: asyncio.Queue[LiveEvent] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._reader: asyncio.Task[None] | None = None

    # sending ----------------------------------------------------------------------------

    def send(self, live_event: LiveEvent) -> None:
        """Queue the event for the bus (called after a commit, possibly from another thread)."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if self._loop is None or self._loop.is_closed():
            if current is None:
                log.warning("live event dropped: no event loop", extra={"type": live_event.type})
                return
            self._loop, self._outbox = current, asyncio.Queue()
            self._sender = current.create_task(self._send_all(self._outbox), name="live-relay")
        assert self._outbox is not None
        if current is self._loop:
            self._outbox.put_nowait(live_event)
        else:
            with contextlib.suppress(RuntimeError):  # that loop is closed: the process stops
                self._loop.call_soon_threadsafe(self._outbox.put_nowait, live_event)

    async def _send_all(self, outbox: asyncio.Queue[LiveEvent]) -> None:
        while True:
            live_event = await outbox.get()
            try:
                await self._bus.publish(LIVE_TOPIC, encode(live_event))
            except (BusError, RuntimeError) as exc:
                log.warning(
                    "live event not relayed; dashboards catch up when they reconnect",
                    extra={"type": live_event.type, "error": type(exc).__name__},
                )
            finally:
                outbox.task_done()

    # receiving --------------------------------------------------------------------------

    async def start(self) -> None:
        """Start feeding the hub; events published after this returns reach it (if the bus
        is away, reading starts once it is back)."""
        if self._reader is not None:
            return
        self._subscription = self._bus.subscribe(LIVE_TOPIC, self.group, self.group)
        with contextlib.suppress(BusUnavailable):
            await self._subscription.start()
        self._reader = asyncio.create_task(self._read(self._subscription), name="live-reader")

    async def _read(self, subscription: Subscription) -> None:
        while not subscription.closed:
            try:
                async for delivery in subscription:
                    self._deliver(delivery.event.payload)
                    await delivery.ack()
            except BusUnavailable:
                log.warning("the event bus is unreachable; live events wait")
                await asyncio.sleep(RETRY_SECONDS)

    def _deliver(self, payload: dict[str, Any]) -> None:
        try:
            self._hub.deliver(decode(payload))
        except (ValueError, TypeError):
            log.warning("a bus event on the live topic is not a live event")

    # stopping ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Send what is queued (briefly), stop reading and remove this process's group."""
        if self._outbox is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), FLUSH_SECONDS)
        if self._subscription is not None:
            # First: the reader's loop ends even if its read loses the cancellation below
            # (redis-py sends through asyncio.wait_for, which on Python 3.11 may swallow it).
            await self._subscription.close()
        tasks = [task for task in (self._sender, self._reader) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sender = self._reader = None
        if self._subscription is not None:
            with contextlib.suppress(BusError):
                await self._subscription.delete_group()
            self._subscription = None
