"""The in-process bus: asyncio only, for the single-process embedded default.

It follows the Redis Streams semantics (consumer groups, acks, redelivery after ``idle_ms``) so
code and tests do not care which bus they run on. Everything lives in one event loop; events do
not survive the process, which is fine because the database is the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from merge_assist.kit.bus.base import (
    DEFAULT_IDLE_MS,
    DEFAULT_MAXLEN,
    Delivery,
    Event,
    Subscription,
    check_name,
    encode_payload,
)

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    """A delivered, not yet acked event: who has it, since when, how many times."""

    event: Event
    consumer: str
    delivered_at: float
    attempts: int


@dataclass
class _Group:
    """A consumer group: events not yet delivered, and deliveries awaiting an ack."""

    maxlen: int
    new: deque[Event] = field(init=False)
    pending: dict[str, _Pending] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    overflowing: bool = False

    def __post_init__(self) -> None:
        self.new = deque(maxlen=self.maxlen)


class InProcessBus:
    """An ``EventBus`` on asyncio primitives (one process, one event loop)."""

    def __init__(self, *, idle_ms: int = DEFAULT_IDLE_MS, maxlen: int = DEFAULT_MAXLEN) -> None:
        if idle_ms < 1 or maxlen < 1:
            raise ValueError("idle_ms and maxlen must be positive")
        self.idle_ms = idle_ms
        self.maxlen = maxlen
        self._groups: dict[str, dict[str, _Group]] = {}
        self._sequence = 0
        self._closed = False

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        """Hand the event to every group of ``topic``; returns its id."""
        check_name("topic", topic)
        if self._closed:
            raise RuntimeError("the event bus is closed")
        # A JSON copy: the same payload rules as Redis, and no state shared with the publisher.
        data = json.loads(encode_payload(payload))
        self._sequence += 1
        event = Event(topic=topic, payload=data, id=f"{self._sequence}-0")
        for name, group in self._groups.get(topic, {}).items():
            async with group.changed:
                if len(group.new) == group.maxlen and not group.overflowing:
                    # Once per episode: a group nobody reads would otherwise log every publish.
                    log.warning(
                        "bus group full; oldest undelivered events are dropped",
                        extra={"topic": topic, "group": name},
                    )
                group.overflowing = len(group.new) == group.maxlen
                group.new.append(event)
                group.changed.notify_all()
        return event.id

    def subscribe(self, topic: str, group: str, consumer: str) -> InProcessSubscription:
        """A subscription of ``consumer`` in ``group`` on ``topic``."""
        return InProcessSubscription(self, topic, group, consumer)

    async def close(self) -> None:
        """End every subscription; further publishing raises ``RuntimeError``."""
        self._closed = True
        for groups in self._groups.values():
            for group in groups.values():
                async with group.changed:
                    group.changed.notify_all()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def _group(self, topic: str, name: str) -> _Group:
        groups = self._groups.setdefault(topic, {})
        if name not in groups:
            groups[name] = _Group(self.maxlen)
        return groups[name]


class InProcessSubscription(Subscription):
    """One consumer of an ``InProcessBus`` group."""

    def __init__(self, bus: InProcessBus, topic: str, group: str, consumer: str) -> None:
        super().__init__(topic, group, consumer)
        self._bus = bus

    def _bus_closed(self) -> bool:
        return self._bus.closed

    async def _create_group(self) -> None:
        self._bus._group(self.topic, self.group)

    async def _next(self, max_wait: float | None) -> Delivery | None:
        group = self._bus._group(self.topic, self.group)
        idle = self._bus.idle_ms / 1000
        deadline = None if max_wait is None else time.monotonic() + max_wait
        # Checks and waits under the condition's lock, so no publish slips between them.
        async with group.changed:
            while not (self._closed or self._bus.closed):
                now = time.monotonic()
                delivery = self._claim_stale(group, now, idle) or self._take_new(group, now)
                if delivery is not None:
                    return delivery
                wait = self._seconds_until_stale(group, now, idle)
                if deadline is not None:
                    if now >= deadline:
                        return None
                    wait = deadline - now if wait is None else min(wait, deadline - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(group.changed.wait(), wait)
        return None

    def _claim_stale(self, group: _Group, now: float, idle: float) -> Delivery | None:
        for pending in group.pending.values():  # oldest delivery first
            if now - pending.delivered_at >= idle:
                pending.consumer = self.consumer
                pending.delivered_at = now
                pending.attempts += 1
                log.info(
                    "bus redelivery",
                    extra={"topic": self.topic, "group": self.group, "event_id": pending.event.id},
                )
                # Move it to the end: the dict stays ordered by delivery time.
                group.pending[pending.event.id] = group.pending.pop(pending.event.id)
                return Delivery(pending.event, pending.attempts, self)
        return None

    def _take_new(self, group: _Group, now: float) -> Delivery | None:
        if not group.new:
            return None
        event = group.new.popleft()
        group.pending[event.id] = _Pending(event, self.consumer, now, 1)
        return Delivery(event, 1, self)

    @staticmethod
    def _seconds_until_stale(group: _Group, now: float, idle: float) -> float | None:
        if not group.pending:
            return None
        oldest = next(iter(group.pending.values()))
        return max(0.0, oldest.delivered_at + idle - now)

    async def ack(self, event: Event | Delivery) -> None:
        """Forget the delivery; acking twice, or an unknown id, does nothing."""
        target = event.event if isinstance(event, Delivery) else event
        self._bus._group(self.topic, self.group).pending.pop(target.id, None)

    async def delete_group(self) -> None:
        """Forget the group (its undelivered and pending events with it)."""
        self._bus._groups.get(self.topic, {}).pop(self.group, None)

    async def close(self) -> None:
        """Stop reading and wake a read waiting in another task so it returns."""
        await super().close()
        group = self._bus._group(self.topic, self.group)
        async with group.changed:
            group.changed.notify_all()
