"""The sandbox clock: simulated speed, freezing, jumps and sleepers that wake on them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gitlab_sandbox.clock import SandboxClock

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_frozen_clock_moves_only_when_advanced() -> None:
    clock = SandboxClock(speed=0, start=START)
    assert clock.monotonic() == 0
    assert clock.now() == START
    clock.advance(90)
    assert clock.monotonic() == 90
    assert clock.now() == START + timedelta(seconds=90)
    assert clock.now().tzinfo is not None


def test_time_never_goes_backwards() -> None:
    clock = SandboxClock(speed=1000)
    readings = [clock.monotonic() for _ in range(200)]
    assert readings == sorted(readings)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


@pytest.mark.parametrize("speed", [-1.0, float("nan"), float("inf")])
def test_rejects_impossible_speeds(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        SandboxClock(speed=speed)


def test_set_speed_keeps_the_current_reading() -> None:
    clock = SandboxClock(speed=0)
    clock.advance(10)
    clock.set_speed(0)
    assert clock.monotonic() == 10
    assert clock.speed == 0


async def test_sleeper_wakes_when_time_jumps() -> None:
    clock = SandboxClock(speed=0)
    sleeper = asyncio.create_task(clock.sleep(3600))
    await asyncio.sleep(0.01)
    assert not sleeper.done()
    clock.advance(3600)
    await asyncio.wait_for(sleeper, timeout=10)
    assert clock.monotonic() >= 3600


async def test_sleeper_wakes_when_the_clock_is_sped_up() -> None:
    clock = SandboxClock(speed=0)
    sleeper = asyncio.create_task(clock.sleep(60))
    await asyncio.sleep(0.01)
    assert not sleeper.done()
    clock.set_speed(60_000)
    await asyncio.wait_for(sleeper, timeout=10)
    assert clock.monotonic() >= 60


async def test_fast_clock_sleeps_in_simulated_seconds() -> None:
    clock = SandboxClock(speed=100_000)
    await asyncio.wait_for(clock.sleep(600), timeout=10)
    assert clock.monotonic() >= 600


async def test_advance_from_another_thread_wakes_the_sleeper() -> None:
    clock = SandboxClock(speed=0)
    sleeper = asyncio.create_task(clock.sleep_until(50))
    await asyncio.sleep(0.01)
    await asyncio.to_thread(clock.advance, 50)
    await asyncio.wait_for(sleeper, timeout=10)
    assert clock.at(50) == clock.at(0) + timedelta(seconds=50)
