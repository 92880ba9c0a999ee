"""Every request body is bounded (issue 13, item 7): a small global limit outside the vault,
the webhook's own, and the vault's larger one; refused with 413 before the body is read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from merge_assist.kit.settings import Settings
from merge_assist.server.app import create_app


async def _answer_without_a_body(app: FastAPI, path: str, declared: int) -> dict[str, object]:
    """Send only the headers declaring ``declared`` bytes (the body never comes) and return
    the answer; before the limit the server waited for the body forever."""
    sent: list[dict[str, object]] = []
    never = asyncio.Event()

    async def receive() -> dict[str, object]:
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(declared).encode()),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=5)  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    return {"status": start["status"], "body": json.loads(body)}


async def test_a_login_declaring_500_mb_is_refused_at_once(app: FastAPI) -> None:
    answer = await _answer_without_a_body(app, "/api/auth/login", 500 * 1024 * 1024)
    assert answer["status"] == 413


async def test_any_json_endpoint_declaring_500_mb_is_refused_at_once(app: FastAPI) -> None:
    for path in ("/api/messages", "/api/projects", "/api/auth/refresh", "/nowhere"):
        answer = await _answer_without_a_body(app, path, 500 * 1024 * 1024)
        assert answer["status"] == 413, path
        detail = answer["body"]["detail"]  # type: ignore[index]
        assert "MERGE_ASSIST_MAX_REQUEST_BODY_BYTES" in detail


async def test_a_webhook_declaring_more_than_its_limit_is_refused_at_once(
    app: FastAPI, settings: Settings
) -> None:
    answer = await _answer_without_a_body(
        app, "/webhook/gitlab", settings.webhook_max_body_bytes + 1
    )
    assert answer["status"] == 413
    assert "MERGE_ASSIST_WEBHOOK_MAX_BODY_BYTES" in answer["body"]["detail"]  # type: ignore[index]


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 65536):
        yield b" " * 65536


async def test_a_streamed_body_past_the_global_limit_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(
        "/api/messages",
        content=_chunks(settings.max_request_body_bytes + 65536),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "MERGE_ASSIST_MAX_REQUEST_BODY_BYTES" in response.json()["detail"]


async def test_the_webhook_keeps_its_own_larger_limit(settings: Settings) -> None:
    from merge_assist.server.app import body_limits

    limits = body_limits(settings)
    by_prefix = {limit.prefix: limit.max_bytes for limit in limits}
    assert by_prefix["/webhook/"] == settings.webhook_max_body_bytes
    assert by_prefix["/"] == settings.max_request_body_bytes == 1024 * 1024
    assert by_prefix["/api/vault/"] > settings.max_request_body_bytes
    assert limits[-1].prefix == "/"  # the global one applies last


def test_the_global_limit_is_a_setting() -> None:
    assert Settings(_env_file=None, max_request_body_bytes=4096).max_request_body_bytes == 4096  # type: ignore[call-arg]
    _ = create_app  # the app is built from these settings
