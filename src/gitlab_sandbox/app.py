"""The sandbox's ASGI application: API v4, git smart HTTP, LFS locks and admin endpoints."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from gitlab_sandbox import admin, lfs
from gitlab_sandbox.accounting import AccountingMiddleware
from gitlab_sandbox.api import build_api_router
from gitlab_sandbox.api.errors import install_error_handlers
from gitlab_sandbox.faults import FaultMiddleware
from gitlab_sandbox.git.smart_http import build_git_router
from gitlab_sandbox.git_access import SandboxGitAccess
from gitlab_sandbox.hooks.dispatcher import request_scope
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.scenario import SeedResult, apply_scenario

_ENCODED_SLASH = re.compile("%2f", re.IGNORECASE)


class EncodedSlashMiddleware:
    """Keep ``%2F`` inside one path segment for API routes, as GitLab does: project paths
    (``group%2Fproject``), file paths and branch names are single, url-encoded segments."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/v4/"):
            raw = scope.get("raw_path")
            if raw and b"%2" in raw:
                text = raw.decode("latin-1").split("?", 1)[0]
                # In place: the accounting middleware reads the routed scope afterwards.
                scope["path"] = unquote(_ENCODED_SLASH.sub("%252F", text))
        await self.app(scope, receive, send)


class WebhookRequestMiddleware:
    """Every hook one request triggers shares its ``X-Gitlab-Event-UUID``, as on GitLab."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_scope():
            await self.app(scope, receive, send)


def create_app(
    sandbox: Sandbox,
    *,
    scenario: Mapping[str, Any] | None = None,
    on_seeded: Callable[[SeedResult], None] | None = None,
) -> FastAPI:
    """The application serving ``sandbox`` (starts and stops its background work); a
    ``scenario`` is applied at start-up and its result kept in ``app.state.seed_result``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await sandbox.start()
        if scenario is not None:
            app.state.seed_result = await apply_scenario(sandbox, scenario)
            if on_seeded is not None:
                on_seeded(app.state.seed_result)
        try:
            yield
        finally:
            await sandbox.close()

    app = FastAPI(
        title="GitLab sandbox",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.state.seed_result = SeedResult()
    install_error_handlers(app)
    app.include_router(build_api_router(), prefix="/api/v4")
    app.include_router(admin.router)
    app.include_router(lfs.router)
    app.include_router(build_git_router(SandboxGitAccess(sandbox)))
    # Added last = outermost: accounting sees faulted calls too; faults come before routing.
    app.add_middleware(EncodedSlashMiddleware)
    app.add_middleware(WebhookRequestMiddleware)
    app.add_middleware(FaultMiddleware, injector=sandbox.faults)
    app.add_middleware(
        AccountingMiddleware, accounting=sandbox.accounting, token_label=sandbox.token_label
    )
    return app
