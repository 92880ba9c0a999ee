"""The event bus contract: events, deliveries, subscriptions and the bus itself.

The database is the source of truth; an event only *wakes* whoever owns the work ("project 42
changed"), and a periodic reconcile makes a lost wake-up harmless. So payloads carry ids and
kinds only, never secrets, and the buses never log payload values (topics, groups, consumers
and event ids only).

Groups are long-lived role names ("workers", "dashboard"), consumers name a process or task
("worker-<host>-<pid>"); do not create a group per connection, groups are kept.

Semantics shared by every implementation (the contract tests in ``tests/kit/test_bus.py``):
- a *group* sees every event published to its topic after the group was created (creating it
  is ``Subscription.start()``, done by ``async with`` or the first read);
- within a group each event goes to one consumer; every group gets every event;
- a delivery not acked within ``idle_ms`` is delivered again, to whichever consumer of the
  group reads next (``Delivery.attempt`` counts), so handlers must be idempotent.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

DEFAULT_IDLE_MS = 30_000
"""Redeliver a delivery that stays un-acked this long (its consumer is presumed dead)."""
DEFAULT_MAXLEN = 10_000
"""Keep about this many events per topic (Redis) or undelivered events per group (in-process)."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


class BusError(Exception):
    """The bus could not do what was asked."""


class BusUnavailable(BusError):
    """The bus's server cannot be reached; retry later (the reconcile covers the gap)."""


def check_name(kind: str, value: str) -> str:
    """Topics, groups and consumers are short names without spaces (``project.changed``)."""
    if not _NAME.match(value):
        raise ValueError(f"{kind} {value!r} must be 1-200 letters, digits or ._:/- characters")
    return value


def encode_payload(payload: Mapping[str, Any]) -> str:
    """The payload as JSON; raises ``TypeError`` for anything JSON cannot carry."""
    if not isinstance(payload, Mapping):
        raise TypeError("an event payload must be a mapping")
    try:
        return json.dumps(dict(payload), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"an event payload must be JSON-serialisable: {exc}") from exc


@dataclass(frozen=True)
class Event:
    """Something happened on ``topic``; ``id`` is set by the bus (ordered within a topic)."""

    topic: str
    payload: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Delivery:
    """One delivery of an event to one consumer; ``ack()`` once it has been handled."""

    event: Event
    attempt: int
    subscription: Subscription = field(repr=False, compare=False)

    async def ack(self) -> None:
        """Mark the event handled for the group, so it is never delivered again."""
        await self.subscription.ack(self.event)


class Subscription(ABC):
    """One consumer of a group on a topic: an async iterator of ``Delivery``.

    Use ``async with bus.subscribe(...) as sub: async for delivery in sub: ...``, or
    ``await sub.next(max_wait)`` in a loop that also reconciles when nothing arrives.
    """

    def __init__(self, topic: str, group: str, consumer: str) -> None:
        self.topic = check_name("topic", topic)
        self.group = check_name("group", group)
        self.consumer = check_name("consumer", consumer)
        self._started = False
        self._closed = False

    async def start(self) -> None:
        """Create the group if it does not exist (idempotent)."""
        if not self._started:
            await self._create_group()
            self._started = True

    async def next(self, max_wait: float | None = None) -> Delivery | None:
        """The next delivery, or ``None`` after ``max_wait`` seconds or once closed."""
        if self._closed:
            return None
        await self.start()
        return await self._next(max_wait)

    @abstractmethod
    async def ack(self, event: Event | Delivery) -> None:
        """Mark ``event`` handled for this subscription's group."""

    async def close(self) -> None:
        """Stop reading; un-acked deliveries stay pending and go to another consumer later."""
        self._closed = True

    @abstractmethod
    async def delete_group(self) -> None:
        """Remove this subscription's group and what waits in it (a group of one process,
        going away for good); other groups of the topic are untouched."""

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called (on this subscription or its bus)."""
        return self._closed or self._bus_closed()

    def _bus_closed(self) -> bool:
        """Whether the bus this subscription reads was closed (iteration then ends)."""
        return False

    @abstractmethod
    async def _create_group(self) -> None: ...

    @abstractmethod
    async def _next(self, max_wait: float | None) -> Delivery | None: ...

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Delivery:
        while True:
            delivery = await self.next(None)
            if delivery is not None:
                return delivery
            if self.closed:  # this subscription or its whole bus
                raise StopAsyncIteration

    async def __aenter__(self) -> Subscription:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.topic} group={self.group} consumer={self.consumer}>"


class EventBus(Protocol):
    """Publish wake-up events and consume them in groups (in-process or Redis Streams)."""

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        """Append an event to ``topic``; returns its id."""
        ...

    def subscribe(self, topic: str, group: str, consumer: str) -> Subscription:
        """A subscription of ``consumer`` in ``group`` on ``topic`` (started on first use)."""
        ...

    async def close(self) -> None:
        """Release connections; open subscriptions end."""
        ...
