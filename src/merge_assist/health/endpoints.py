"""Liveness, readiness, the status of the background processes, and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from merge_assist.auth.dependencies import CurrentUser
from merge_assist.health.metrics_access import check_metrics_access
from merge_assist.health.metrics_state import refresh_state_gauges
from merge_assist.health.schemas import HealthStatus, WebhookHealth
from merge_assist.health.status import health_status
from merge_assist.health.webhooks import webhook_health
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import ServiceUnavailable
from merge_assist.kit.web import Resources, Session
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/api/health")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/api/health/ready")
async def ready(res: Resources) -> dict[str, str]:
    """The database answers; 503 otherwise."""
    try:
        async with res.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("The database is not reachable.") from exc
    return {"status": "ready", "database": res.engine.dialect.name}


@router.get("/api/health/status", response_model=HealthStatus)
async def status(user: CurrentUser, session: Session, res: Resources) -> HealthStatus:
    """Processes (alive within three heartbeats), project leases, queue depth per project and
    target branch, the webhook inbox's backlog and the latest queue errors. Administrators see
    every project; other signed-in users only the projects they may see, and the error lines
    only of the projects whose logs they may read (those they may manage)."""
    visible = None
    if not user.is_admin:
        visible = {project.id for project in await projects.visible_projects(session, user)}
    return await health_status(
        session,
        now=utcnow(),
        heartbeat_seconds=res.settings.heartbeat_seconds,
        visible=visible,
        managed=await projects.managed_projects(session, user),
    )


@router.get("/api/health/webhooks", response_model=list[WebhookHealth])
async def webhooks(user: CurrentUser, session: Session, res: Resources) -> list[WebhookHealth]:
    """Whether GitLab still sends each project's webhook: our hook read back through GitLab's
    hooks API (``alert_status``, ``disabled_until``), for the active projects that take
    webhooks, of those the user may see. A hook GitLab disabled after failed deliveries reads
    ``temporarily_disabled`` or ``disabled`` with what to do; 502 when GitLab cannot be
    reached at all."""
    shown = await projects.visible_projects(session, user)
    taking = [
        project
        for project in shown
        if project.is_active and (await projects.get_config(session, project.id)).webhook_enabled
    ]
    if not taking:
        return []
    factory = res.service(GITLAB_CLIENT_FACTORY)
    async with await asyncio.to_thread(factory) as client:
        return await webhook_health(client, taking)


@router.get("/metrics", include_in_schema=False)
async def metrics(res: Resources, request: Request, session: Session) -> Response:
    """Prometheus text exposition; behind ``metrics_token`` when set, 404 when turned off.

    The state gauges are read from the database first; if it does not answer, the process's
    own counters are still served (the gauges keep their last values)."""
    check_metrics_access(res.settings, request.headers.get("authorization", ""))
    try:
        await refresh_state_gauges(
            session, now=utcnow(), heartbeat_seconds=res.settings.heartbeat_seconds
        )
    except Exception:
        log.warning("the state gauges could not be read from the database", exc_info=True)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
