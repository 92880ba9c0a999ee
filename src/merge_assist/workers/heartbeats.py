"""Heartbeats: each process records that it is alive; the worker count drives fair shares."""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.db import upsert_insert
from merge_assist.workers.models import WorkerHeartbeat

ALIVE_FACTOR = 3
"""A process is alive while its last heartbeat is younger than this many intervals."""


def new_worker_id(role: str) -> str:
    """A process id unique across hosts and restarts: ``<role>-<host>-<pid>-<random>``."""
    # Also a bus consumer name: letters, digits, '.', '_' and '-' only.
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname().split(".")[0])[:60].strip("-")
    host = host or "host"
    return f"{role}-{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def beat(session: AsyncSession, worker_id: str, role: str, *, now: datetime) -> None:
    """Record that ``worker_id`` is alive now (creating its row on the first beat)."""
    table = WorkerHeartbeat.__table__
    insert = upsert_insert(session.get_bind().dialect.name, table).values(
        worker_id=worker_id,
        role=role,
        hostname=socket.gethostname()[:255],
        pid=os.getpid(),
        started_at=now,
        last_seen=now,
        stopped_at=None,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[table.c.worker_id],
            set_={"last_seen": insert.excluded.last_seen, "stopped_at": None},
        )
    )


async def stopped(session: AsyncSession, worker_id: str, *, now: datetime) -> None:
    """Record a graceful stop (the process is no longer counted as alive)."""
    await session.execute(
        update(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker_id == worker_id)
        .values(stopped_at=now, last_seen=now)
        .execution_options(synchronize_session=False)
    )


def alive_since(now: datetime, heartbeat_seconds: int) -> datetime:
    """The oldest ``last_seen`` of a process still counted as alive."""
    return now - timedelta(seconds=ALIVE_FACTOR * heartbeat_seconds)


async def live_workers(
    session: AsyncSession, *, now: datetime, heartbeat_seconds: int, role: str = "worker"
) -> int:
    """How many processes of ``role`` are alive (running and seen recently)."""
    rows = await session.scalars(
        select(WorkerHeartbeat.worker_id).where(
            WorkerHeartbeat.role == role,
            WorkerHeartbeat.stopped_at.is_(None),
            WorkerHeartbeat.last_seen >= alive_since(now, heartbeat_seconds),
        )
    )
    return len(rows.all())


async def all_heartbeats(session: AsyncSession, *, limit: int = 200) -> Sequence[WorkerHeartbeat]:
    """The most recently seen processes first."""
    rows = await session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.last_seen.desc()).limit(limit)
    )
    return rows.all()
