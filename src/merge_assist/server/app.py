"""The FastAPI application factory: one app serving every feature's endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from merge_assist.assistant.endpoints import router as assistant_router
from merge_assist.assistant.rejection import rejection_advice
from merge_assist.audit.endpoints import build_router as build_audit_router
from merge_assist.audit.sink import AuditLogSink
from merge_assist.auth.audit_port import AUDIT_SINK
from merge_assist.auth.dependencies import AdminUser
from merge_assist.auth.endpoints import router as auth_router
from merge_assist.auth.notices import USER_NOTICES
from merge_assist.health.alerts.endpoints import router as alerts_router
from merge_assist.health.alerts.evaluator import alerts_duty
from merge_assist.health.endpoints import router as health_router
from merge_assist.ingest.endpoints import router as ingest_router
from merge_assist.ingest.endpoints import webhook_body_limit
from merge_assist.ingest.service import WEBHOOK_REJECTIONS, received_since, rejection_window
from merge_assist.kit.body_limit import BodyLimit, BodyLimitMiddleware, global_body_limit
from merge_assist.kit.db import create_engine, create_sessionmaker
from merge_assist.kit.http_security import HttpSecurity, SecurityMiddleware
from merge_assist.kit.live.app_hub import close_live_relay, start_live_relay
from merge_assist.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.kit.web import AppResources, install_error_handlers
from merge_assist.merging.adapter.runtime import close_merge_queue, run_merge_queue
from merge_assist.merging.api.endpoints import router as merging_router
from merge_assist.merging.engine.observations import FileLock
from merge_assist.merging.persistence.advice import REJECTION_ADVICE
from merge_assist.merging.persistence.runner import VAULT_LOCKS
from merge_assist.messaging.endpoints import router as messaging_router
from merge_assist.messaging.system_notices import SystemMessageNotices
from merge_assist.projects.endpoints import router as projects_router
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY, gitlab_client_factory
from merge_assist.projects.onboarding_check import RECEIVED_SINCE
from merge_assist.server.public_config import router as public_config_router
from merge_assist.server.updates import SOCKET_REJECTIONS, socket_rejection_window
from merge_assist.server.updates import router as updates_router
from merge_assist.server.web import mount_dashboard
from merge_assist.vault.endpoints import router as vault_router
from merge_assist.vault.rules import upload_body_limit
from merge_assist.vault.service import locks_for_paths
from merge_assist.workers.background import start_background
from merge_assist.workers.presence import ProcessPresence


def create_resources(settings: Settings, engine: AsyncEngine) -> AppResources:
    """What every process of the product holds (API, listener, worker, watcher)."""
    res = AppResources(
        settings=settings, engine=engine, sessions=create_sessionmaker(engine, settings)
    )
    res.provide(AUDIT_SINK, AuditLogSink())
    res.provide(USER_NOTICES, SystemMessageNotices())  # auth's notices as messages
    res.provide(GITLAB_CLIENT_FACTORY, gitlab_client_factory(settings))
    res.provide(VAULT_LOCKS, vault_gate_locks)  # the merge queue's vault gate
    res.provide(REJECTION_ADVICE, rejection_advice(res))  # the rejection comment's next step
    res.provide(WEBHOOK_REJECTIONS, rejection_window(settings))  # 429 for token guessers
    res.provide(SOCKET_REJECTIONS, socket_rejection_window(settings))  # and socket guessers
    res.provide(RECEIVED_SINCE, received_since)  # the onboarding check reads the inbox
    return res


async def vault_gate_locks(
    session: AsyncSession, project_id: int, paths: Sequence[str]
) -> list[FileLock]:
    """The vault's check-outs among ``paths``, as the merge queue's engine reads them."""
    found = await locks_for_paths(session, project_id, paths)
    return [FileLock(path=lock.path, holder=lock.holder) for lock in found]


def create_app(
    settings: Settings | None = None,
    engine: AsyncEngine | None = None,
    *,
    routers: list[APIRouter] | None = None,
    process_role: str | None = None,
) -> FastAPI:
    """Build the app; it owns the engine unless one is given (tests share theirs).

    ``routers`` limits the app to those routes, without the dashboard (the listener); with
    ``settings.run_background`` the lifespan also runs a worker and the watcher. A process that
    serves the app names its ``process_role`` (``api``, ``listener``): the lifespan records its
    heartbeats, so the health page lists it.
    """
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or create_engine(settings.effective_database_url)
    res = create_resources(settings, engine)
    app = FastAPI(
        title="Merge Assist",
        version="0.1.0",
        description="Merge queue, vault and GitLab sandbox companion.",
        docs_url="/docs" if settings.api_docs_enabled else None,
        redoc_url="/redoc" if settings.api_docs_enabled else None,
        openapi_url="/openapi.json" if settings.api_docs_enabled else None,
        lifespan=_lifespan(
            res, owns_engine=owns_engine, whole_product=routers is None, role=process_role
        ),
    )
    app.state.resources = res
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limits=body_limits(settings))
    _install_http_metrics(app)
    # Outermost: the Host check sees every request first, every answer gets the headers.
    app.add_middleware(SecurityMiddleware, policy=HttpSecurity.from_settings(settings))
    for router in _routers() if routers is None else routers:
        app.include_router(router)
    if routers is None:
        mount_dashboard(app, settings.web_dist_dir)  # last: the API's routes always win
    return app


def body_limits(settings: Settings) -> list[BodyLimit]:
    """Every request body is bounded: the vault's uploads and the webhook by their own limits,
    everything else by the small global one (the first matching prefix applies)."""
    return [
        upload_body_limit(settings.vault_max_upload_bytes),
        webhook_body_limit(settings.webhook_max_body_bytes),
        global_body_limit(settings.max_request_body_bytes),
    ]


def _lifespan(
    res: AppResources, *, owns_engine: bool, whole_product: bool, role: str | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start and stop what the app runs beside its routes.

    The whole product (not the listener's few routes) relays live events between processes,
    and runs a worker and the watcher with ``settings.run_background``. The engine is disposed
    only when the app owns it. With a ``role`` the process records heartbeats as that role.
    """
    settings = res.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings.resolved_secret_key()  # fail at start, not at the first login
        background = None
        presence = ProcessPresence(res, role) if role else None
        if presence is not None:
            presence.start()
        if whole_product:
            await start_live_relay(res)  # this process's sockets hear every process's events
        if settings.run_background and whole_product:
            background = start_background(res, run_merge_queue, duties=(alerts_duty,))
        yield
        if background is not None:
            await background.stop()
            await close_merge_queue(res)
        if presence is not None:
            await presence.stop()
        await close_live_relay(res)
        if res.bus is not None:
            await res.bus.close()
        if owns_engine:
            await res.engine.dispose()

    return lifespan


def _install_http_metrics(app: FastAPI) -> None:
    """Count every request and time it, labelled by route template (never the raw path)."""

    @app.middleware("http")
    async def _metrics(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
        HTTP_LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
        return response


def create_listener_app(
    settings: Settings | None = None, process_role: str | None = None
) -> FastAPI:
    """The listener process's app: the webhook and the health routes only."""
    return create_app(settings, routers=[health_router, ingest_router], process_role=process_role)


def _routers() -> list[APIRouter]:
    """Every feature's router, in one list so features add one line each."""
    return [
        health_router,
        alerts_router,
        public_config_router,
        auth_router,
        build_audit_router(AdminUser),
        projects_router,
        messaging_router,
        updates_router,
        merging_router,
        assistant_router,
        vault_router,
        ingest_router,
    ]
