"""Stopping a worker never waits on a wake-up listener that lost its cancellation.

The flaky hang in ``test_worker_redis.py``: ``Worker.stop()`` cancelled the project's
``_listen`` task and awaited it, but redis-py (whose connections have a 5 s ``socket_timeout``)
sends each command through ``asyncio.wait_for``, and on Python 3.11 ``wait_for`` returns the
result instead of raising when the task is cancelled just as the write completes. The
cancellation was lost, the listener went on reading (``XREADGROUP BLOCK``) forever, and
``stop()`` with it. The listener now also ends when its subscription is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from merge_assist.kit.bus import Delivery, Event, Subscription
from merge_assist.kit.web import AppResources
from merge_assist.workers.worker import Worker
from tests.workers.conftest import Clock, RecordingRun, eventually
from tests.workers.factories import make_project


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


@pytest.mark.parametrize("how", ["stop", "abandon"])
async def test_stopping_ends_a_listener_whose_read_lost_the_cancellation(
    res: AppResources, sessions: Any, recording: RecordingRun, clock: Clock, how: str
) -> None:
    project = await make_project(sessions)
    bus = LosingBus()
    worker = Worker(res, "worker-stop", recording, clock=clock, bus=bus)
    await worker.tick()
    await eventually(lambda: recording.count(project.id) == 1)
    await asyncio.wait_for(bus.reading.wait(), 10)
    stopping = asyncio.create_task(worker.stop() if how == "stop" else worker.abandon())
    done, _ = await asyncio.wait({stopping}, timeout=5)  # before the fix: waited forever
    if not done:
        stopping.cancel()  # a second cancellation gets through; the test still fails
        await asyncio.wait({stopping}, timeout=5)
    assert done, f"Worker.{how}() waited on a listener that lost its cancellation"
    assert worker.owned == {}
