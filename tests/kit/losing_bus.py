"""A bus whose reads lose the first cancellation, as redis-py's do on Python 3.11.

redis-py's connections have a 5 s ``socket_timeout``, so every command is sent through
``asyncio.wait_for``; on Python 3.11, ``wait_for`` returns the finished write's result instead of
raising when its task is cancelled at that moment. Code that stops a reader only by cancelling
it then waits forever; closing the subscription first ends the read loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from merge_assist.kit.bus import Delivery, Event, Subscription


class LosesOneCancellation(Subscription):
    """Reads that swallow the first cancellation, as redis-py's do on Python 3.11."""

    reading: asyncio.Event

    async def _create_group(self) -> None:
        return None

    async def _next(self, max_wait: float | None) -> Delivery | None:
        lost = False
        while not self.closed:
            self.reading.set()
            try:
                await asyncio.sleep(0.01)  # one blocking read
            except asyncio.CancelledError:
                if lost:
                    raise
                lost = True  # wait_for returned the finished write's result instead
        return None

    async def ack(self, event: Event | Delivery) -> None:
        return None

    async def delete_group(self) -> None:
        return None


class LosingBus:
    def __init__(self) -> None:
        self.reading = asyncio.Event()

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        return "0-1"

    def subscribe(self, topic: str, group: str, consumer: str) -> Subscription:
        subscription = LosesOneCancellation(topic, group, consumer)
        subscription.reading = self.reading
        return subscription

    async def close(self) -> None:
        return None
