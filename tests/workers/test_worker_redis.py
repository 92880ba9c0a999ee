"""The worker under Redis Streams: wake-ups from another process reach the project's owner
through the consumer group, and one waiting while the owner died goes to the next owner."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.kit.bus import RedisStreamsBus
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.wakeups import BUS_EXTRAS_KEY, WAKE_GROUP, publish_wake, wake_topic
from merge_assist.workers.worker import Worker
from tests.workers.conftest import Clock, RecordingRun, eventually
from tests.workers.factories import make_project

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private, empty redis-server for the test (project ids repeat between tests)."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (scripts/install --test installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() - started > 20:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def redis_res(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    redis_url: str,
) -> AsyncIterator[AppResources]:
    bus = RedisStreamsBus(redis_url, idle_ms=300, block_ms=50)
    yield AppResources(
        settings=settings, engine=engine, sessions=sessions, extras={BUS_EXTRAS_KEY: bus}
    )
    await bus.close()


async def test_wake_up_from_another_process_reaches_the_owner(
    redis_res: AppResources,
    redis_url: str,
    sessions: async_sessionmaker[AsyncSession],
    recording: RecordingRun,
    clock: Clock,
) -> None:
    project = await make_project(sessions)
    worker = Worker(redis_res, "worker-redis", recording, clock=clock)
    listener_bus = RedisStreamsBus(redis_url)  # the listener's own connection
    try:
        await worker.tick()
        await eventually(lambda: recording.count(project.id) == 1)

        # The subscription may still be creating its group: keep waking until it runs.
        async def woken() -> bool:
            if recording.count(project.id) < 2:
                await publish_wake(listener_bus, project.id, "webhook")
            return recording.count(project.id) >= 2

        await eventually(woken)
    finally:
        await worker.stop()
        await listener_bus.close()


async def test_wake_up_waiting_while_the_owner_is_dead_goes_to_the_next(
    settings: Settings,
    engine: AsyncEngine,
    redis_res: AppResources,
    redis_url: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
) -> None:
    project = await make_project(sessions, polling_interval_seconds=3600)
    dying_run, next_run = RecordingRun(clock), RecordingRun(clock)
    dying = Worker(redis_res, "worker-dying", dying_run, clock=clock)
    await dying.tick()
    await eventually(lambda: dying_run.count(project.id) == 1)
    await dying.abandon()
    publisher = RedisStreamsBus(redis_url)
    next_bus = RedisStreamsBus(redis_url, idle_ms=300, block_ms=50)
    res = AppResources(
        settings=settings, engine=engine, sessions=sessions, extras={BUS_EXTRAS_KEY: next_bus}
    )
    taking = Worker(res, "worker-next", next_run, clock=clock)
    try:
        # Published while nobody reads: the group keeps it for the next owner.
        event_id = await publisher.publish(
            wake_topic(project.id), {"project_id": project.id, "reason": "webhook"}
        )
        clock.advance(settings.lease_seconds + 3 * settings.heartbeat_seconds + 1)
        await taking.tick()

        async def handed_over() -> bool:
            groups = await publisher.redis.xinfo_groups(
                publisher.stream_key(wake_topic(project.id))
            )
            [group] = [g for g in groups if g["name"] == WAKE_GROUP]
            return bool(group["last-delivered-id"] == event_id and group["pending"] == 0)

        await eventually(handed_over)  # delivered to the next owner, and acked
        await eventually(lambda: next_run.count(project.id) >= 1)
    finally:
        await taking.stop()
        await publisher.close()
        await next_bus.close()
