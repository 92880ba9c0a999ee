"""Bodies over the limit are refused before the endpoint reads them, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from merge_assist.kit.body_limit import BodyLimit, BodyLimitMiddleware
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


async def test_declared_and_streamed_bodies_over_the_limit_get_413() -> None:
    received: list[int] = []
    transport = httpx.ASGITransport(app=_app(received))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        declared = await client.post("/limited/upload", content=b"x" * 2048)
        assert declared.status_code == 413
        assert declared.json() == {"detail": SENTENCE, "code": "payload_too_large"}
        streamed = await client.post("/limited/upload", content=_chunks(4096))
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413
        assert streamed.json()["detail"] == SENTENCE
        assert received == []  # the endpoint never had the bytes

        small = await client.post("/limited/upload", content=b"x" * 1024)
        assert small.json() == {"size": 1024}
        elsewhere = await client.post("/free/upload", content=b"x" * 4096)
        assert elsewhere.json() == {"size": 4096}
