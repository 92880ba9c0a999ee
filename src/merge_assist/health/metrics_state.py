"""The state gauges of ``/metrics``, read from the database at each scrape.

Read here rather than counted in the process that changes them, so any API or listener process
reports the same, whole-product values (queue depth, inbox backlog, live processes, open
alerts) whatever process did the work.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.health import repository
from merge_assist.health.alerts import repository as alerts
from merge_assist.ingest import service as inbox
from merge_assist.kit.metrics import ALERTS_OPEN, INBOX_UNPROCESSED, PROCESSES_ALIVE, QUEUE_DEPTH
from merge_assist.projects import service as projects
from merge_assist.workers import heartbeats

ROLES = ("worker", "watcher", "listener")


async def refresh_state_gauges(
    session: AsyncSession, *, now: datetime, heartbeat_seconds: int
) -> None:
    """Set the gauges from the database (reads first, then sets with no await between)."""
    paths = {
        p.id: p.path_with_namespace
        for p in await projects.all_projects(session, include_inactive=True)
    }
    counts = await repository.queue_counts(session)
    backlog = sum((await inbox.backlog(session)).values())
    alive_since = heartbeats.alive_since(now, heartbeat_seconds)
    alive = Counter(
        beat.role
        for beat in await heartbeats.all_heartbeats(session)
        if beat.stopped_at is None and beat.last_seen >= alive_since
    )
    open_alerts = await alerts.count_open(session)
    QUEUE_DEPTH.clear()  # queues emptied since the last scrape drop out
    for project_id, branch, state, count in counts:
        QUEUE_DEPTH.labels(paths.get(project_id, str(project_id)), branch, state).set(count)
    INBOX_UNPROCESSED.set(backlog)
    for role in sorted(set(ROLES) | set(alive)):
        PROCESSES_ALIVE.labels(role).set(alive[role])
    ALERTS_OPEN.set(open_alerts)
