"""Live updates for open dashboards: one WebSocket, ``/api/ws/updates``.

What it carries is published by features after their commits (``kit.live.publish``) and fanned
out by the app's hub (``kit.live.app_hub.hub_of``), through the bus when it reaches other
processes (``kit.live.relay``).

The socket protocol: the client's first message is ``{"type": "auth", "token": "<access
token>"}`` (never a token in the URL); a bad one closes the socket with 4401. Then the server
sends ``{"type": "ready", "user_id": ...}`` and, from then on, the events addressed to that user
or to everyone, as JSON objects with a ``type``. The user is re-read from the database now and
then; a deactivated user's socket is closed with 4401.

Hostile first messages: the server reads at most ``WS_MAX_MESSAGE_BYTES`` per message (uvicorn's
``ws_max_size``, set by every command that serves the app; a larger one closes with 1009), the
first message at most ``MAX_AUTH_MESSAGE_CHARS``; anything malformed (not JSON, nested too
deeply, not an auth message) closes with 4401 and a reason, never an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from merge_assist.auth.principal import Principal
from merge_assist.auth.service import load_principal
from merge_assist.auth.tokens import InvalidAccessToken, read_access_token
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.hub import Connection
from merge_assist.kit.web import AppResources

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 1013  # "try again later": the client reconnects and reloads what it shows
MAX_AUTH_MESSAGE_CHARS = 8192

router = APIRouter()


@router.websocket("/api/ws/updates")
async def updates_socket(websocket: WebSocket) -> None:
    """Authenticate with the first message, then stream this user's live events."""
    res: AppResources = websocket.app.state.resources
    hub = hub_of(res)
    await websocket.accept()
    principal, refusal = await _authenticate(websocket, res)
    if principal is None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(CLOSE_UNAUTHENTICATED, refusal)
        return
    connection = hub.connect(principal.id)
    try:
        await websocket.send_json({"type": "ready", "user_id": principal.id})
        code, reason = await _stream(websocket, connection, res, hub.recheck_seconds)
        if code is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code, reason)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)


async def _authenticate(websocket: WebSocket, res: AppResources) -> tuple[Principal | None, str]:
    """The user of the first message's token, or None and why (short: a close reason)."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout=10)
    except TimeoutError:
        return None, "Send your access token first."
    text = message.get("text")
    if message["type"] != "websocket.receive" or not isinstance(text, str):
        return None, "Send your access token first."
    if len(text) > MAX_AUTH_MESSAGE_CHARS:
        return None, "The first message is too large."
    try:
        first = json.loads(text)
    except (ValueError, RecursionError):
        return None, "The first message must be a small JSON object."
    if not isinstance(first, dict) or first.get("type") != "auth":
        return None, 'Send {"type": "auth", "token": ...} first.'
    token = first.get("token")
    if not isinstance(token, str) or not token:
        return None, 'Send {"type": "auth", "token": ...} first.'
    try:
        user_id = read_access_token(token, key=res.settings.resolved_secret_key())
    except InvalidAccessToken:
        return None, "The access token is not valid; sign in again."
    principal = await _current(res, user_id)
    if principal is None:
        return None, "This account is deactivated or no longer exists."
    return principal, ""


async def _current(res: AppResources, user_id: int) -> Principal | None:
    async with res.sessions() as session:
        return await load_principal(session, user_id)


async def _stream(
    websocket: WebSocket, connection: Connection, res: AppResources, recheck_seconds: float
) -> tuple[int | None, str]:
    """Send queued events until the client leaves (None) or we end it (a close code)."""
    client_left = asyncio.create_task(_until_client_leaves(websocket))
    sender = asyncio.create_task(_send_events(websocket, connection, res, recheck_seconds))
    try:
        await asyncio.wait({client_left, sender}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (client_left, sender):
            task.cancel()
        await asyncio.gather(client_left, sender, return_exceptions=True)
    if sender.done() and not sender.cancelled() and sender.exception() is None:
        return sender.result()
    return None, ""


async def _until_client_leaves(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _send_events(
    websocket: WebSocket, connection: Connection, res: AppResources, recheck_seconds: float
) -> tuple[int, str]:
    """Forward the connection's events; re-read the user every ``recheck_seconds``, busy or not."""
    loop = asyncio.get_running_loop()
    recheck_at = loop.time() + recheck_seconds
    while True:
        try:
            text = await asyncio.wait_for(
                connection.next(), timeout=max(0.0, recheck_at - loop.time())
            )
        except TimeoutError:
            text = ""
        if loop.time() >= recheck_at:
            if await _current(res, connection.user_id) is None:
                return CLOSE_UNAUTHENTICATED, "This account is deactivated or no longer exists."
            recheck_at = loop.time() + recheck_seconds
        if text is None:
            return CLOSE_TOO_SLOW, "Too many events were waiting; reconnect."
        if text:
            await websocket.send_text(text)
