"""``GET /api/audit`` and ``GET /api/audit/export``, for administrators only.

The router is built by ``build_router(admin_dependency)`` so the app wires in the auth feature's
admin check (the audit feature does not depend on auth).
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.params import Depends as DependsParam
from fastapi.responses import StreamingResponse

from merge_assist.audit import service
from merge_assist.audit.formats import ExportFormat, render
from merge_assist.audit.repository import AuditQuery
from merge_assist.audit.schemas import AuditEntryOut, AuditPageOut
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import BadRequest
from merge_assist.kit.web import AppResources, Resources, Session

MAX_PAGE = 500


def audit_query(
    actor: Annotated[str | None, Query(max_length=255, description="Actor name.")] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Actor user id.")] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="Exact action, or a prefix ending in *.")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=255)] = None,
    success: Annotated[bool | None, Query()] = None,
    since: Annotated[
        datetime | None, Query(description="From this time (ISO 8601; UTC if no offset).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Before this time (ISO 8601).")] = None,
) -> AuditQuery:
    """The search filters from the query string."""
    query = service.build_query(
        actor=actor,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        success=success,
        since=since,
        until=until,
    )
    if query.since and query.until and query.since >= query.until:
        raise BadRequest("'since' must be earlier than 'until'.")
    return query


Filters = Annotated[AuditQuery, Depends(audit_query)]


def _as_dependency(admin_dependency: Any) -> DependsParam:
    """Accept ``AdminUser``-style ``Annotated[User, Depends(...)]``, a ``Depends`` or a callable."""
    if typing.get_origin(admin_dependency) is Annotated:
        for extra in admin_dependency.__metadata__:
            if isinstance(extra, DependsParam):
                return extra
        raise TypeError("the admin dependency's Annotated type carries no Depends(...)")
    if isinstance(admin_dependency, DependsParam):
        return admin_dependency
    if callable(admin_dependency):
        dependency: DependsParam = Depends(admin_dependency)
        return dependency
    raise TypeError(
        "admin_dependency must be a callable, a Depends(...) or Annotated[..., Depends]"
    )


async def _export_chunks(
    res: AppResources, query: AuditQuery, fmt: ExportFormat
) -> AsyncIterator[str]:
    # Its own read session: the export outlives the request's unit of work and commits nothing.
    async with res.sessions() as session:
        async for chunk in render(service.export(session, query), fmt):
            yield chunk


def build_router(admin_dependency: Callable[..., Any] | Any) -> APIRouter:
    """The audit router; every route requires ``admin_dependency`` to pass."""
    router = APIRouter(
        prefix="/api/audit", tags=["audit"], dependencies=[_as_dependency(admin_dependency)]
    )

    @router.get("", response_model=AuditPageOut)
    async def list_entries(
        session: Session,
        filters: Filters,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> AuditPageOut:
        """Entries matching the filters, newest first."""
        page = await service.search(session, filters, limit=limit, offset=offset)
        return AuditPageOut(
            items=[AuditEntryOut.model_validate(entry) for entry in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
        )

    @router.get("/export")
    async def export_entries(
        res: Resources,
        filters: Filters,
        fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.jsonl,
    ) -> StreamingResponse:
        """Every matching entry in chain order, streamed as JSON Lines or CSV."""
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        return StreamingResponse(
            _export_chunks(res, filters, fmt),
            media_type=fmt.media_type,
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt.value}"'},
        )

    return router
