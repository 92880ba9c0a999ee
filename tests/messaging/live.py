"""A real server for WebSocket tests: uvicorn on a free loopback port, in a thread.

Starlette's ``TestClient`` needs ``httpx2`` now (with ``httpx`` it warns, and warnings are
errors), so socket tests talk to a real server with the ``websockets`` client instead, under
asyncio timeouts so a missing event fails the test rather than hanging it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from merge_assist.kit.body_limit import WS_MAX_MESSAGE_BYTES

WAIT_SECONDS = 30


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its ``ws://`` base address."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
        ws_max_size=WS_MAX_MESSAGE_BYTES,  # as every command serves the app
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while not (server.started and server.servers):
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT_SECONDS)


@asynccontextmanager
async def updates_socket(base: str) -> AsyncIterator[ClientConnection]:
    """An open (not yet authenticated) ``/api/ws/updates`` socket."""
    async with connect(f"{base}/api/ws/updates", open_timeout=WAIT_SECONDS) as socket:
        yield socket


async def receive(socket: ClientConnection) -> dict[str, Any]:
    """The next JSON event (fails after ``WAIT_SECONDS`` rather than hanging)."""
    raw = await asyncio.wait_for(socket.recv(), timeout=WAIT_SECONDS)
    event: dict[str, Any] = json.loads(raw)
    return event


async def authenticate(socket: ClientConnection, token: str) -> dict[str, Any]:
    """Send the auth message; returns the server's ``ready`` event."""
    await socket.send(json.dumps({"type": "auth", "token": token}))
    return await receive(socket)


async def close_code(socket: ClientConnection) -> int | None:
    """Wait for the server to close the socket; its close code."""
    await asyncio.wait_for(socket.wait_closed(), timeout=WAIT_SECONDS)
    return socket.close_code


def token_of(headers: dict[str, str]) -> str:
    """The access token in an ``Authorization: Bearer`` header."""
    return headers["Authorization"].removeprefix("Bearer ")
