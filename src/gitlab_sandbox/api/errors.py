"""GitLab's error answers: ``{"message": ...}`` or ``{"error": ...}`` with GitLab's wording."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """An expected refusal rendered exactly as GitLab renders it."""

    def __init__(
        self,
        status_code: int,
        message: Any,
        *,
        key: str = "message",
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.status_code = status_code
        self.body: dict[str, Any] = {key: message, **(extra or {})}
        self.headers = headers


def not_found(what: str = "Not found") -> ApiError:
    """GitLab's ``404 <What> Not Found``."""
    return ApiError(404, f"404 {what}" if what == "Not found" else f"404 {what} Not Found")


def bad_request(message: str) -> ApiError:
    """A 400 with GitLab's ``{"message": ...}`` shape."""
    return ApiError(400, message)


def missing(*names: str) -> ApiError:
    """Grape's answer to missing required parameters."""
    return ApiError(400, ", ".join(f"{name} is missing" for name in names), key="error")


def invalid(name: str) -> ApiError:
    """Grape's answer to a parameter with a wrong value."""
    return ApiError(400, f"{name} is invalid", key="error")


def forbidden(message: str = "403 Forbidden") -> ApiError:
    return ApiError(403, message)


def unauthorized() -> ApiError:
    return ApiError(401, "401 Unauthorized")


def validation(field_errors: dict[str, list[str]], status_code: int = 400) -> ApiError:
    """A model validation failure: ``{"message": {"field": ["error"]}}``."""
    return ApiError(status_code, field_errors)


def install_error_handlers(app: FastAPI) -> None:
    """Render ``ApiError`` and framework errors in GitLab's shapes (never an HTML page)."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        text = {404: "404 Not Found", 405: "405 Method Not Allowed"}.get(
            exc.status_code, str(exc.detail)
        )
        if exc.status_code == 404:
            return JSONResponse({"error": "404 Not Found"}, status_code=404)
        return JSONResponse({"message": text}, status_code=exc.status_code)

    async def request_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        names = [str(err.get("loc", ["?"])[-1]) for err in exc.errors()]
        return JSONResponse({"error": ", ".join(f"{n} is invalid" for n in names)}, 400)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_error)
