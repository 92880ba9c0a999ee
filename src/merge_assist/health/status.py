"""The health status: processes, leases, queue depths, inbox backlog and recent errors.

An administrator sees everything. Anyone else sees the processes (they carry no project data)
and, of the rest, only what belongs to the projects they may see (the rule of
``GET /api/projects``): their leases, queues and inbox backlog. Error lines are queue log
lines, so they follow the rule of ``GET /api/logs``: only those of the projects the user may
manage (admin, or ``project_owner`` with ``can_manage``); error lines of no project are for
administrators only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.health import repository
from merge_assist.health.schemas import (
    ErrorEntry,
    HealthStatus,
    InboxBacklog,
    LeaseStatus,
    ProcessStatus,
    QueueDepth,
)
from merge_assist.ingest import service as inbox
from merge_assist.projects import service as projects
from merge_assist.workers import heartbeats, leases
from merge_assist.workers.models import ProjectLease, WorkerHeartbeat

LAST_ERRORS = 20


async def health_status(
    session: AsyncSession,
    *,
    now: datetime,
    heartbeat_seconds: int,
    visible: Collection[int] | None = None,
    managed: Collection[int] | None = None,
) -> HealthStatus:
    """Everything ``GET /api/health/status`` shows, as of ``now``; of the projects ``visible``
    only (their ids), or of all of them when None (an administrator); error lines of the
    projects ``managed`` only (None: of all of them)."""
    paths = {
        p.id: p.path_with_namespace
        for p in await projects.all_projects(session, include_inactive=True)
        if visible is None or p.id in visible
    }

    def shown(project_id: int) -> bool:
        return visible is None or project_id in visible

    alive_since = heartbeats.alive_since(now, heartbeat_seconds)
    workers = [_process(beat, alive_since) for beat in await heartbeats.all_heartbeats(session)]
    lease_rows = [
        _lease(row, paths, now)
        for row in await leases.current_leases(session)
        if shown(row.project_id)
    ]
    counts = [row for row in await repository.queue_counts(session) if shown(row[0])]
    backlog = {p: n for p, n in (await inbox.backlog(session)).items() if shown(p)}
    return HealthStatus(
        checked_at=now,
        workers=workers,
        leases=lease_rows,
        queues=_queues(counts, paths),
        inbox=InboxBacklog(
            unprocessed=sum(backlog.values()),
            oldest_received_at=await inbox.oldest_unprocessed(session, visible),
            by_project=backlog,
        ),
        last_errors=[
            ErrorEntry(
                id=row.id,
                project_id=row.project_id,
                target_branch=row.target_branch,
                iid=row.iid,
                message=row.message,
                created_at=row.created_at,
            )
            for row in await repository.last_errors(session, LAST_ERRORS, managed)
        ],
    )


def _process(beat: WorkerHeartbeat, alive_since: datetime) -> ProcessStatus:
    return ProcessStatus(
        worker_id=beat.worker_id,
        role=beat.role,
        hostname=beat.hostname,
        pid=beat.pid,
        started_at=beat.started_at,
        last_seen=beat.last_seen,
        stopped_at=beat.stopped_at,
        alive=beat.stopped_at is None and beat.last_seen >= alive_since,
    )


def _lease(row: ProjectLease, paths: dict[int, str], now: datetime) -> LeaseStatus:
    return LeaseStatus(
        project_id=row.project_id,
        project_path=paths.get(row.project_id),
        owner=row.owner,
        token=row.token,
        expires_at=row.expires_at,
        held=row.expires_at > now,
    )


def _queues(counts: list[tuple[int, str, str, int]], paths: dict[int, str]) -> list[QueueDepth]:
    by_queue: dict[tuple[int, str], dict[str, int]] = {}
    for project_id, branch, state, count in counts:
        by_queue.setdefault((project_id, branch), {})[state] = count
    return [
        QueueDepth(
            project_id=project_id,
            project_path=paths.get(project_id),
            target_branch=branch,
            states=states,
            total=sum(states.values()),
        )
        for (project_id, branch), states in sorted(by_queue.items())
    ]
