"""Closing the live relay never waits on a reader that lost its cancellation (the app's
shutdown hung like ``Worker.stop()``: see ``tests/kit/losing_bus.py``)."""

from __future__ import annotations

import asyncio

from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.live.relay import LiveRelay
from tests.kit.losing_bus import LosingBus


async def test_close_ends_a_reader_whose_read_lost_the_cancellation() -> None:
    bus = LosingBus()
    relay = LiveRelay(bus, UpdatesHub(), group="live-test")
    await relay.start()
    await asyncio.wait_for(bus.reading.wait(), 10)
    closing = asyncio.create_task(relay.close())
    done, _ = await asyncio.wait({closing}, timeout=5)  # before the fix: waited forever
    if not done:
        closing.cancel()  # a second cancellation gets through; the test still fails
        await asyncio.wait({closing}, timeout=5)
    assert done, "LiveRelay.close() waited on a reader that lost its cancellation"
