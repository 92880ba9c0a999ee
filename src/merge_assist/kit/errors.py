"""One error base class carrying an HTTP status and a sentence a person understands."""

from __future__ import annotations

from typing import Any


class MergeAssistError(Exception):
    """Base of every expected refusal; the API turns it into ``{"detail": message}``."""

    status_code: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


class BadRequest(MergeAssistError):
    status_code = 400
    code = "bad_request"


class NotAuthenticated(MergeAssistError):
    status_code = 401
    code = "not_authenticated"


class Forbidden(MergeAssistError):
    status_code = 403
    code = "forbidden"


class NotFound(MergeAssistError):
    status_code = 404
    code = "not_found"


class Conflict(MergeAssistError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(MergeAssistError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(MergeAssistError):
    status_code = 422
    code = "invalid"


class TooManyRequests(MergeAssistError):
    status_code = 429
    code = "too_many_requests"

    def __init__(
        self, message: str, *, retry_after: int, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ServiceUnavailable(MergeAssistError):
    status_code = 503
    code = "unavailable"
