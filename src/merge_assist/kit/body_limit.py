"""Refuse request bodies over a limit before they are read (413), per path prefix.

FastAPI parses a multipart form, spooling its files to disk, before the endpoint runs, so an
endpoint's own size check comes after the bytes are stored. This middleware answers 413 at once
when ``Content-Length`` is over the limit, and stops a body sent without one (chunked) as soon as
it passes the limit, so an oversized upload never fills the disk.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from merge_assist.kit.errors import PayloadTooLarge


@dataclass(frozen=True)
class BodyLimit:
    """Bodies of requests whose path starts with ``prefix`` may have at most ``max_bytes``."""

    prefix: str
    max_bytes: int
    sentence: str


class BodyLimitMiddleware:
    """A pure ASGI middleware applying the first matching ``BodyLimit``."""

    def __init__(self, app: ASGIApp, limits: Sequence[BodyLimit]) -> None:
        self.app = app
        self.limits = tuple(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self._limit_for(scope)
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _refuse(send, limit.sentence)
            return
        await self.app(scope, _counting(receive, limit), send)

    def _limit_for(self, scope: Scope) -> BodyLimit | None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return None
        path: str = scope.get("path", "")
        return next((lim for lim in self.limits if path.startswith(lim.prefix)), None)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _counting(receive: Receive, limit: BodyLimit) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit.max_bytes:
                # Raised inside the endpoint's body read: the app's error handler answers 413.
                raise PayloadTooLarge(limit.sentence)
        return message

    return counted


async def _refuse(send: Send, sentence: str) -> None:
    body = json.dumps({"detail": sentence, "code": PayloadTooLarge.code}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": PayloadTooLarge.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
