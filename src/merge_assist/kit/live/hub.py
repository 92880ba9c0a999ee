"""The hub: fan-out of live events to the sockets open on this process.

``publish`` goes through the hub's relay when one has registered itself (``relay.LiveRelay``,
when the bus reaches other processes), so every process's sockets hear the event; without one
it delivers here directly. Publishing may come from another thread (a worker with its own loop):
each socket's queue is fed on that socket's own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from merge_assist.kit.live.events import SESSION_ENDED, LiveEvent


@dataclass(eq=False)
class Connection:
    """One open socket's queue of encoded events (``None`` at the end: it fell behind, or
    ``ended`` is set: its user's sign-ins were ended)."""

    user_id: int
    limit: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    dropped: bool = False
    ended: bool = False

    def offer(self, text: str) -> None:
        """Queue ``text``; a connection that falls ``limit`` events behind is ended instead."""
        if self.dropped or self.ended:
            return
        if self.queue.qsize() >= self.limit:
            self.dropped = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(text)

    def end(self) -> None:
        """End the connection: its user's sign-ins were ended (the socket closes it)."""
        if self.ended:
            return
        self.ended = True
        self.queue.put_nowait(None)

    async def next(self) -> str | None:
        """The next event's text; ``None`` once the connection fell behind."""
        return await self.queue.get()


class LiveEventRelay(Protocol):
    """Carries events to every process's hub (``kit.live.relay.LiveRelay``)."""

    def send(self, live_event: LiveEvent) -> None:
        """Queue ``live_event`` for every process's hub (never raises for a bus failure)."""
        ...


class UpdatesHub:
    """Fan-out of live events to the sockets open on this process (``deliver``); ``publish``
    goes through the relay when there is one, so other processes' sockets hear it too."""

    relay: LiveEventRelay | None = None

    def __init__(self, *, queue_limit: int = 256, recheck_seconds: float = 60.0) -> None:
        if queue_limit < 1 or recheck_seconds <= 0:
            raise ValueError("queue_limit and recheck_seconds must be positive")
        self.queue_limit = queue_limit
        # How often an idle socket re-reads its user (deactivation closes it).
        self.recheck_seconds = recheck_seconds
        self._connections: dict[int, set[Connection]] = {}
        # Publishing may come from another thread (a worker with its own loop).
        self._lock = threading.Lock()

    def connect(self, user_id: int) -> Connection:
        """Register a socket of ``user_id`` (call from the socket's event loop)."""
        connection = Connection(user_id, self.queue_limit, asyncio.get_running_loop())
        with self._lock:
            self._connections.setdefault(user_id, set()).add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forget a socket (idempotent)."""
        with self._lock:
            held = self._connections.get(connection.user_id)
            if held is not None:
                held.discard(connection)
                if not held:
                    del self._connections[connection.user_id]

    def connection_count(self, user_id: int | None = None) -> int:
        """Open sockets of ``user_id``, or of everyone."""
        with self._lock:
            if user_id is not None:
                return len(self._connections.get(user_id, ()))
            return sum(len(held) for held in self._connections.values())

    def publish(self, live_event: LiveEvent) -> int:
        """Send the event to the sockets it is addressed to, on every process when there is a
        relay (then 0 is returned: delivery happens when the relay reads it back), else on this
        one (returns how many)."""
        if self.relay is not None:
            live_event.encode()  # fail in the caller, as without a relay
            self.relay.send(live_event)
            return 0
        return self.deliver(live_event)

    def close_user(self, user_id: int) -> int:
        """End every socket of ``user_id`` on this process (they close with 4401); how many.

        To reach every process, publish ``LiveEvent.for_users(SESSION_ENDED, [user_id])``
        instead: delivering that event ends the sockets the same way.
        """
        with self._lock:
            targets = list(self._connections.get(user_id, ()))
        self._hand_over(targets, Connection.end)
        return len(targets)

    def deliver(self, live_event: LiveEvent) -> int:
        """Hand the event to every socket of this process it is addressed to; returns how many."""
        text = live_event.encode()
        with self._lock:
            if live_event.user_ids is None:
                targets = [c for held in self._connections.values() for c in held]
            else:
                targets = [c for uid in live_event.user_ids for c in self._connections.get(uid, ())]
        if live_event.type == SESSION_ENDED:
            self._hand_over(targets, Connection.end)
        else:
            self._hand_over(targets, lambda connection: connection.offer(text))
        return len(targets)

    @staticmethod
    def _hand_over(targets: list[Connection], act: Callable[[Connection], None]) -> None:
        """Run ``act`` on each connection on its own loop (asyncio queues are not thread-safe)."""
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for connection in targets:
            if connection.loop is current:
                act(connection)
            else:
                # asyncio queues are not thread-safe: hand over to the socket's own loop.
                with contextlib.suppress(RuntimeError):  # that loop is closed: socket gone
                    connection.loop.call_soon_threadsafe(act, connection)
