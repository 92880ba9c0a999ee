"""Bounded bodies: refuse what is over a limit (413) before it is read, never after.

One counting rule serves three readers:

- ``BodyLimitMiddleware`` bounds the requests of a path prefix. FastAPI parses a multipart form,
  spooling its files to disk, before the endpoint runs, so an endpoint's own size check comes
  after the bytes are stored. The middleware answers 413 at once when ``Content-Length`` is over
  the limit, and stops a body sent without one (chunked) as soon as it passes the limit, so an
  oversized upload never fills the disk.
- ``read_request_body`` reads a request's body in an endpoint (a webhook, a sign-in): refused
  from its ``Content-Length`` without reading, else as soon as the bytes read pass the limit.
- ``read_upload`` reads an uploaded file the same way, chunk by chunk.

Each is given the sentence the person sees with the 413.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from merge_assist.kit.errors import PayloadTooLarge

UPLOAD_CHUNK_BYTES = 1024 * 1024
# The largest WebSocket message the server reads (uvicorn's ``ws_max_size``, 1009 beyond):
# dashboards send only their auth message and pings.
WS_MAX_MESSAGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyLimit:
    """Bodies of requests whose path starts with ``prefix`` may have at most ``max_bytes``."""

    prefix: str
    max_bytes: int
    sentence: str


def global_body_limit(max_bytes: int) -> BodyLimit:
    """The limit of every request body no narrower prefix bounds (wired in last)."""
    return BodyLimit(
        prefix="/",
        max_bytes=max_bytes,
        sentence=(
            f"The request body is larger than this server accepts ({max_bytes / 1048576:.1f} "
            "MiB, MERGE_ASSIST_MAX_REQUEST_BODY_BYTES)."
        ),
    )


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
        guard = _BodyGuard(receive, send, limit)
        await self.app(scope, guard.receive, guard.send)

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


class ByteCounter:
    """Counts the bytes of one body; refuses with ``sentence`` once they pass ``max_bytes``."""

    def __init__(self, max_bytes: int, sentence: str) -> None:
        self.max_bytes = max_bytes
        self.sentence = sentence
        self.seen = 0

    def refuse_declared(self, declared: int | None) -> None:
        """Refuse at once when the declared length (``Content-Length``) is over the limit."""
        if declared is not None and declared > self.max_bytes:
            raise PayloadTooLarge(self.sentence)

    def add(self, size: int) -> None:
        """Count ``size`` more bytes; 413 when the total passes the limit."""
        self.seen += size
        if self.seen > self.max_bytes:
            raise PayloadTooLarge(self.sentence)


async def read_bounded(chunks: AsyncIterable[bytes], counter: ByteCounter) -> bytes:
    """Every chunk joined, refused (413) as soon as they pass the counter's limit."""
    kept: list[bytes] = []
    async for chunk in chunks:
        counter.add(len(chunk))
        kept.append(chunk)
    return b"".join(kept)


async def read_request_body(request: Request, max_bytes: int, sentence: str) -> bytes:
    """The request's body, refused with 413 past ``max_bytes`` (without reading it all)."""
    counter = ByteCounter(max_bytes, sentence)
    counter.refuse_declared(_content_length(request.scope))
    return await read_bounded(request.stream(), counter)


async def read_upload(upload: UploadFile, max_bytes: int, sentence: str) -> bytes:
    """The uploaded file's bytes, refused with 413 as soon as they pass ``max_bytes``."""
    return await read_bounded(_upload_chunks(upload), ByteCounter(max_bytes, sentence))


async def _upload_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
        yield chunk


class _BodyGuard:
    """Counts a streamed body; past the limit it answers 413 itself and raises
    ``PayloadTooLarge`` into the app's read. What the app answers after that is dropped, so a
    body parser that turns the error into its own 400 cannot change the answer."""

    def __init__(self, receive: Receive, send: Send, limit: BodyLimit) -> None:
        self._receive = receive
        self._send = send
        self._counter = ByteCounter(limit.max_bytes, limit.sentence)
        self._refused = False
        self._started = False

    async def receive(self) -> Message:
        if self._refused:
            raise PayloadTooLarge(self._counter.sentence)
        message = await self._receive()
        if message["type"] == "http.request":
            try:
                self._counter.add(len(message.get("body", b"")))
            except PayloadTooLarge:
                self._refused = True
                if not self._started:
                    self._started = True
                    await _refuse(self._send, self._counter.sentence)
                raise
        return message

    async def send(self, message: Message) -> None:
        if self._refused:
            return  # the 413 is the answer; what the app says after it is dropped
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)


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
