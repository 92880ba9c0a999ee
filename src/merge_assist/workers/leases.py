"""Project leases: one owner per project at a time, each operation one SQL statement.

A lease is a row of ``project_leases``. Acquiring is an ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE the lease lapsed OR I own it``: the database serialises concurrent attempts on the row, so
exactly one worker wins, on SQLite and PostgreSQL alike. The fencing ``token`` grows whenever
the lease is taken after it lapsed or from someone else, so a worker that was paused past its
expiry sees a different token and stops (``still_owner``).

Times come from the worker's clock (``kit.clock.utcnow``); workers' clocks are expected to be
NTP-synchronised, with drift well under ``lease_seconds - lease_renew_seconds``.

Callers run each function in its own short transaction (``kit.db.unit_of_work``) so the lease
is visible to others at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.db import upsert_insert
from merge_assist.workers.models import ProjectLease


@dataclass(frozen=True)
class Lease:
    """A lease a worker holds: the project, the owner and the fencing token."""

    project_id: int
    owner: str
    token: int
    expires_at: datetime


async def acquire(
    session: AsyncSession, project_id: int, owner: str, *, now: datetime, seconds: int
) -> Lease | None:
    """Take (or keep) the project's lease for ``seconds``; ``None`` if someone else holds it."""
    table = ProjectLease.__table__
    expires_at = now + timedelta(seconds=seconds)
    insert = upsert_insert(session.get_bind().dialect.name, table).values(
        project_id=project_id,
        owner=owner,
        token=1,
        acquired_at=now,
        renewed_at=now,
        expires_at=expires_at,
    )
    excluded = insert.excluded
    # Still mine and not lapsed: keep the token; otherwise this is a new tenure.
    kept = and_(table.c.owner == excluded.owner, table.c.expires_at >= excluded.renewed_at)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.project_id],
        set_={
            "owner": excluded.owner,
            "token": case((kept, table.c.token), else_=table.c.token + 1),
            "acquired_at": case((kept, table.c.acquired_at), else_=excluded.acquired_at),
            "renewed_at": excluded.renewed_at,
            "expires_at": excluded.expires_at,
        },
        where=or_(table.c.expires_at < excluded.renewed_at, table.c.owner == excluded.owner),
    ).returning(table.c.token)
    token = (await session.execute(statement)).scalar_one_or_none()
    if token is None:
        return None
    return Lease(project_id, owner, int(token), expires_at)


async def renew(
    session: AsyncSession, lease: Lease, *, now: datetime, seconds: int
) -> Lease | None:
    """Extend a lease still held under the same token; ``None`` once it changed hands.

    A lapsed lease nobody took is renewed too: the unchanged owner and token prove nobody else
    held it in between.
    """
    expires_at = now + timedelta(seconds=seconds)
    result = await session.execute(
        update(ProjectLease)
        .where(
            ProjectLease.project_id == lease.project_id,
            ProjectLease.owner == lease.owner,
            ProjectLease.token == lease.token,
        )
        .values(renewed_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Lease(lease.project_id, lease.owner, lease.token, expires_at)


async def release(session: AsyncSession, lease: Lease, *, now: datetime) -> bool:
    """Let the lease lapse now so another worker can take it; False if it was not ours."""
    result = await session.execute(
        update(ProjectLease)
        .where(
            ProjectLease.project_id == lease.project_id,
            ProjectLease.owner == lease.owner,
            ProjectLease.token == lease.token,
        )
        .values(expires_at=now - timedelta(microseconds=1))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def holds(session: AsyncSession, lease: Lease, *, now: datetime) -> bool:
    """Whether ``lease`` is still current: same owner, same token, not expired."""
    found = await session.scalar(
        select(func.count())
        .select_from(ProjectLease)
        .where(
            ProjectLease.project_id == lease.project_id,
            ProjectLease.owner == lease.owner,
            ProjectLease.token == lease.token,
            ProjectLease.expires_at > now,
        )
    )
    return bool(found)


async def current_leases(session: AsyncSession) -> Sequence[ProjectLease]:
    """Every lease row (held or lapsed), by project."""
    rows = await session.scalars(select(ProjectLease).order_by(ProjectLease.project_id))
    return rows.all()


async def held_by_others(session: AsyncSession, owner: str, *, now: datetime) -> set[int]:
    """The projects whose lease another worker holds right now."""
    rows = await session.scalars(
        select(ProjectLease.project_id).where(
            ProjectLease.owner != owner, ProjectLease.expires_at > now
        )
    )
    return set(rows.all())
