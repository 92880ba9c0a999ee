"""Bodies over the limit are refused before they are read, declared or streamed: by the
middleware for a path prefix, and by the readers an endpoint calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request, UploadFile

from merge_assist.kit.body_limit import (
    BodyLimit,
    BodyLimitMiddleware,
    ByteCounter,
    read_request_body,
    read_upload,
)
from merge_assist.kit.errors import PayloadTooLarge
from merge_assist.kit.web import install_error_handlers

SENTENCE = "The upload is larger than 1 KiB."


def _app(received: list[int]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limits=[BodyLimit("/limited/", 1024, SENTENCE)])

    @app.post("/limited/upload")
    @app.post("/free/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = len(await request.body())
        received.append(size)
        return {"size": size}

    return app


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 256):
        yield b"x" * 256


async def _refused_declared_and_streamed(client: httpx.AsyncClient, path: str, size: int) -> None:
    """``size`` bytes (over the limit) to ``path`` get 413, with and without Content-Length."""
    declared = await client.post(path, content=b"x" * size)
    assert declared.status_code == 413
    assert declared.json() == {"detail": SENTENCE, "code": "payload_too_large"}
    streamed = await client.post(path, content=_chunks(size))
    assert "content-length" not in streamed.request.headers
    assert streamed.status_code == 413
    assert streamed.json()["detail"] == SENTENCE


async def test_declared_and_streamed_bodies_over_the_limit_get_413() -> None:
    received: list[int] = []
    transport = httpx.ASGITransport(app=_app(received))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await _refused_declared_and_streamed(client, "/limited/upload", 2048)
        assert received == []  # the endpoint never had the bytes

        small = await client.post("/limited/upload", content=b"x" * 1024)
        assert small.json() == {"size": 1024}
        elsewhere = await client.post("/free/upload", content=b"x" * 4096)
        assert elsewhere.json() == {"size": 4096}


def _reading_app(read: list[int]) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        content = await read_request_body(request, 1024, SENTENCE)
        read.append(len(content))
        return {"size": len(content)}

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:
        content = await read_upload(file, 1024, SENTENCE)
        read.append(len(content))
        return {"size": len(content)}

    return app


async def test_a_read_body_is_refused_past_the_limit_declared_or_streamed() -> None:
    read: list[int] = []
    transport = httpx.ASGITransport(app=_reading_app(read))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await _refused_declared_and_streamed(client, "/body", 1280)
        assert (await client.post("/body", content=_chunks(1024))).json() == {"size": 1024}
        upload = await client.post("/upload", files={"file": ("a.bin", b"x" * 1025)})
        assert upload.status_code == 413
        assert upload.json()["detail"] == SENTENCE
        fits = await client.post("/upload", files={"file": ("a.bin", b"x" * 1024)})
        assert fits.json() == {"size": 1024}
    assert read == [1024, 1024]


def test_the_counter_refuses_only_past_the_limit() -> None:
    counter = ByteCounter(10, SENTENCE)
    counter.refuse_declared(None)
    counter.refuse_declared(10)
    counter.add(6)
    counter.add(4)
    with pytest.raises(PayloadTooLarge, match="larger than 1 KiB"):
        counter.add(1)
    with pytest.raises(PayloadTooLarge):
        ByteCounter(10, SENTENCE).refuse_declared(11)
