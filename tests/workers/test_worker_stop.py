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
from typing import Any

import pytest

from merge_assist.kit.web import AppResources
from merge_assist.workers.worker import Worker
from tests.kit.losing_bus import LosingBus
from tests.workers.conftest import Clock, RecordingRun, eventually
from tests.workers.factories import make_project


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
