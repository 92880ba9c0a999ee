"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from merge_assist.kit.errors import ServiceUnavailable
from merge_assist.kit.web import Resources

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


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
