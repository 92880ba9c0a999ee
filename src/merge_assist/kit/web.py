"""Request plumbing shared by every feature: the app's resources, sessions, error responses.

``AppResources`` holds what a running process shares: settings, database, the event bus and the
live-events hub (kit's own, as typed fields), and the services features provide to each other,
each under a typed ``ServiceKey`` (``res.provide(KEY, service)`` at start,
``res.service(KEY)`` where it is used; a missing one is an error naming it, never a default).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, cast, final

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from merge_assist.kit.bus.base import EventBus
from merge_assist.kit.errors import MergeAssistError, TooManyRequests
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


@final
class ServiceKey(Generic[T]):
    """The typed name of a service a feature provides on the app's resources.

    Declare it beside the service's type, e.g. ``AUDIT_SINK: ServiceKey[AuditSink] =
    ServiceKey("audit sink")``; ``res.service(AUDIT_SINK)`` is then an ``AuditSink`` for mypy.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


class MissingService(RuntimeError):
    """A service was asked for that nobody provided (a start-up wiring bug, not a refusal)."""


@dataclass
class AppResources:
    """What a running process holds: settings, database, bus, live hub, feature services."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus | None = None
    """The event bus; made from the settings on first use (``kit.bus.wake.bus_of``)."""
    live_hub: UpdatesHub | None = None
    """The live-events hub; made on first use (``kit.live.app_hub.hub_of``)."""
    _services: dict[ServiceKey[Any], object] = field(default_factory=dict, init=False, repr=False)

    def provide(self, key: ServiceKey[T], service: T) -> None:
        """Make ``service`` the one under ``key`` (at start; tests may swap it)."""
        self._services[key] = service

    def service(self, key: ServiceKey[T]) -> T:
        """The service under ``key``; ``MissingService`` naming it if nobody provided it."""
        try:
            return cast(T, self._services[key])
        except KeyError:
            raise MissingService(
                f"No {key.name} was provided on the app's resources "
                "(create_resources provides every service the product needs)."
            ) from None

    def find(self, key: ServiceKey[T]) -> T | None:
        """The service under ``key``, or None: for state a process makes when first needed."""
        return cast(T | None, self._services.get(key))

    def withdraw(self, key: ServiceKey[T]) -> T | None:
        """Remove and return the service under ``key`` (None if there was none)."""
        return cast(T | None, self._services.pop(key, None))


def resources(request: Request) -> AppResources:
    """The app's resources (set on ``app.state.resources`` by the factory)."""
    res: AppResources = request.app.state.resources
    return res


async def db_session(
    res: Annotated[AppResources, Depends(resources)],
) -> AsyncIterator[AsyncSession]:
    """One session per request, committed once when the endpoint returns without error.

    The dependency is function-scoped (``Session``), so the commit happens before the response
    is sent: a client that has its answer can read what it changed, and a failed commit is an
    error response, never a 200 for work that was lost.
    """
    async with res.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


Session = Annotated[AsyncSession, Depends(db_session, scope="function")]
Resources = Annotated[AppResources, Depends(resources)]


def _describe_validation(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        if error.get("type") == "json_invalid":
            return "The request body is not valid JSON."
        loc = list(error.get("loc", ()))
        if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            loc = loc[1:]  # where it came from, not a field name (a field may be called "body")
        location = ".".join(str(p) for p in loc)
        parts.append(f"{location or 'request'}: {error.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


REFUSAL_SCHEMA: dict[str, Any] = {
    "title": "Refusal",
    "description": "An expected refusal: a sentence a person understands and a stable code; "
    "a request that breaks the schema also lists what was wrong in ``errors``.",
    "type": "object",
    "required": ["detail", "code"],
    "properties": {
        "detail": {"type": "string", "title": "Detail"},
        "code": {"type": "string", "title": "Code"},
        "errors": {
            "type": "array",
            "title": "Errors",
            "items": {"$ref": "#/components/schemas/ValidationError"},
        },
    },
}


def _publish_refusal_shape(app: FastAPI) -> None:
    """Make ``/openapi.json`` describe the 422 the handlers send (FastAPI's default says
    ``detail`` is a list; ours is a sentence, with the list in ``errors``)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # cached by FastAPI; the edit below is idempotent
        schemas = schema.get("components", {}).get("schemas", {})
        if "HTTPValidationError" in schemas:
            schemas["HTTPValidationError"] = REFUSAL_SCHEMA
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Turn every expected refusal into ``{"detail": sentence, "code": ...}``."""
    _publish_refusal_shape(app)

    @app.exception_handler(MergeAssistError)
    async def _domain_error(_request: Request, exc: MergeAssistError) -> JSONResponse:
        headers = dict(exc.headers)
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.details:
            body["details"] = exc.details
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(
            {"detail": _describe_validation(errors), "code": "invalid", "errors": errors},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "code": "http_error"},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            {
                "detail": "Internal error; the administrators have the details in the log.",
                "code": "internal",
            },
            status_code=500,
        )
