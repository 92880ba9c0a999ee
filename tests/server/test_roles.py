"""The role commands start, do their work and stop on SIGTERM (subprocesses, bounded waits)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from merge_assist.kit import migrate
from merge_assist.kit.db import create_engine, create_sessionmaker
from merge_assist.workers.models import ProjectLease, WorkerHeartbeat
from tests.workers.factories import make_project

WAIT = 60.0  # upper bound for start-up on a busy machine; never asserted on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def role_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERGE_ASSIST_")}
    return {
        **env,
        "MERGE_ASSIST_ENVIRONMENT": "test",
        "MERGE_ASSIST_DATABASE_URL": database_url,
        "MERGE_ASSIST_DATA_DIR": str(tmp_path / "data"),
        "MERGE_ASSIST_SECRET_KEY": "role-test-secret-key-long-enough",
        "MERGE_ASSIST_LOG_LEVEL": "WARNING",
        "MERGE_ASSIST_HEARTBEAT_SECONDS": "1",
        "MERGE_ASSIST_LEASE_RENEW_SECONDS": "1",
        "MERGE_ASSIST_LEASE_SECONDS": "10",
    }


@contextmanager
def running(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The command running; SIGTERM at the end, and it must exit within the bound."""
    process = subprocess.Popen(
        [sys.executable, "-m", "merge_assist", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise
        finally:
            if process.stderr is not None:
                process.stderr.close()


async def _heartbeats(sessions: async_sessionmaker[AsyncSession]) -> list[WorkerHeartbeat]:
    async with sessions() as session:
        return list((await session.scalars(select(WorkerHeartbeat))).all())


async def wait_for_role(
    sessions: async_sessionmaker[AsyncSession], role: str, process: subprocess.Popen[bytes]
) -> WorkerHeartbeat:
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        assert process.poll() is None, "the command ended early"
        async with sessions() as session:
            beat = await session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.role == role))
        if beat is not None:
            return beat
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {role} heartbeat appeared")


@pytest.fixture
async def migrated(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the database migrated as an operator would (``merge-assist db upgrade``)."""
    await asyncio.to_thread(migrate.upgrade, database_url)
    engine = create_engine(database_url, poolclass=NullPool)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.mark.parametrize("role", ["worker", "watcher"])
async def test_role_command_runs_and_stops_on_sigterm(
    role: str, database_url: str, tmp_path: Path, migrated: async_sessionmaker[AsyncSession]
) -> None:
    project = await make_project(migrated)
    env = role_env(database_url, tmp_path)
    with running([role], env, tmp_path) as process:
        await wait_for_role(migrated, role, process)
        if role == "worker":
            await _wait_for_lease(migrated, project.id, process)
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
    assert process.returncode == 0
    async with migrated() as session:
        beat = await session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.role == role))
        lease = await session.get(ProjectLease, project.id)
    assert beat is not None
    assert beat.stopped_at is not None
    if role == "worker":
        assert lease is not None
        assert lease.expires_at <= beat.stopped_at  # released on the way out


async def _wait_for_lease(
    sessions: async_sessionmaker[AsyncSession], project_id: int, process: subprocess.Popen[bytes]
) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while asyncio.get_running_loop().time() < deadline:
        assert process.poll() is None, "the worker ended early"
        async with sessions() as session:
            if await session.get(ProjectLease, project_id) is not None:
                return
        await asyncio.sleep(0.2)
    raise AssertionError("the worker took no lease")


async def _wait_for_http(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    async with httpx.AsyncClient(timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, "the server ended early"
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


async def test_serve_runs_api_listener_watcher_and_worker_in_one_process(
    database_url: str, tmp_path: Path, migrated: async_sessionmaker[AsyncSession]
) -> None:
    project = await make_project(migrated)
    port = free_port()
    env = role_env(database_url, tmp_path)
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        await _wait_for_http(f"{base}/api/health", process)
        await wait_for_role(migrated, "worker", process)
        await wait_for_role(migrated, "watcher", process)
        await _wait_for_lease(migrated, project.id, process)
        async with httpx.AsyncClient(timeout=5) as client:
            hook = await client.post(
                f"{base}/webhook/gitlab", json={"object_kind": "push", "project": {"id": 1}}
            )
        assert hook.status_code == 401
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM)
    beats = await _heartbeats(migrated)
    # The API beats too (``workers.presence``), so the health page lists every process.
    assert {b.role for b in beats} == {"api", "worker", "watcher"}
    assert all(b.stopped_at is not None for b in beats)


async def test_listener_serves_only_the_webhook_and_health(
    database_url: str, tmp_path: Path, migrated: async_sessionmaker[AsyncSession]
) -> None:
    port = free_port()
    env = role_env(database_url, tmp_path)
    with running(["listener", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        await _wait_for_http(f"{base}/api/health", process)
        async with httpx.AsyncClient(timeout=5) as client:
            hook = await client.post(
                f"{base}/webhook/gitlab", json={"object_kind": "push", "project": {"id": 1}}
            )
            login = await client.post(f"{base}/api/auth/login", json={})
        assert hook.status_code == 401
        assert login.status_code == 404
    assert process.returncode in (0, -signal.SIGTERM)
    beats = await _heartbeats(migrated)  # the listener is on the health page, then stopped
    assert [b.role for b in beats] == ["listener"]
    assert beats[0].stopped_at is not None
