"""Live updates for open dashboards: one WebSocket, ``/api/ws/updates``.

What it carries is published by features after their commits (``kit.live.publish``) and fanned
out by the app's hub (``kit.live.app_hub.hub_of``), through the bus when it reaches other
processes (``kit.live.relay``).

The socket protocol: the client's first message is ``{"type": "auth", "token": "<access
token>"}`` (never a token in the URL); a bad one closes the socket with 4401. Then the server
sends ``{"type": "ready", "user_id": ...}`` and, from then on, the events addressed to that user
or to everyone, as JSON objects with a ``type``. The socket closes with 4401 when its access
token expires (the client reconnects with a fresh one), when the user's sign-ins are ended
(sign-out everywhere, new password, deactivation, role change: the ``session.ended`` event,
through every process's hub) and, as a backstop for changes made without a hub (the CLI),
when re-reading the user now and then finds the account gone or the token ended.

Hostile first messages: the server reads at most ``WS_MAX_MESSAGE_BYTES`` per message (uvicorn's
``ws_max_size``, set by every command that serves the app; a larger one closes with 1009), the
first message at most ``MAX_AUTH_MESSAGE_CHARS``; anything malformed (not JSON, nested too
deeply, not an auth message) closes with 4401 and a reason, never an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from merge_assist.auth.revocation import principal_for_access
from merge_assist.auth.tokens import AccessClaims, InvalidAccessToken, read_access_claims
from merge_assist.kit.forwarded import connection_address
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.hub import Connection
from merge_assist.kit.rate_limit import FailureWindow
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources, ServiceKey

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 1013  # "try again later": the client reconnects and reloads what it shows
CLOSE_TOO_MANY_FAILURES = 4429
MAX_AUTH_MESSAGE_CHARS = 8192

SOCKET_REJECTIONS: ServiceKey[FailureWindow] = ServiceKey("live socket sign-in refusals")
"""Refused first messages per client address (this process's count)."""


def socket_rejection_window(settings: Settings) -> FailureWindow:
    """Refused socket sign-ins per address: the same limits as unauthenticated webhook
    deliveries (``webhook_max_rejections_per_address`` per ``webhook_rejection_window_seconds``)."""
    return FailureWindow(
        settings.webhook_max_rejections_per_address, settings.webhook_rejection_window_seconds
    )


router = APIRouter()


@router.websocket("/api/ws/updates")
async def updates_socket(websocket: WebSocket) -> None:
    """Authenticate with the first message, then stream this user's live events."""
    res: AppResources = websocket.app.state.resources
    hub = hub_of(res)
    rejections = res.service(SOCKET_REJECTIONS)
    address = connection_address(websocket, res.settings.trusted_proxy_networks)
    await websocket.accept()
    wait = rejections.retry_after(address)
    if wait is not None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            reason = f"Too many refused sign-ins from your address; try again in {wait} s."
            await websocket.close(CLOSE_TOO_MANY_FAILURES, reason)
        return
    claims, refusal = await _authenticate(websocket, res)
    if claims is None:
        rejections.record(address)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(CLOSE_UNAUTHENTICATED, refusal)
        return
    connection = hub.connect(claims.user_id)
    try:
        await websocket.send_json({"type": "ready", "user_id": claims.user_id})
        live = _Live(websocket, connection, res, claims, hub.recheck_seconds)
        code, reason = await _stream(live)
        if code is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code, reason)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)


@dataclass(frozen=True)
class _Live:
    """One authenticated socket: where it sends, what it hears, whose token it holds."""

    websocket: WebSocket
    connection: Connection
    res: AppResources
    claims: AccessClaims
    recheck_seconds: float


async def _authenticate(websocket: WebSocket, res: AppResources) -> tuple[AccessClaims | None, str]:
    """The claims of the first message's token, or None and why (short: a close reason)."""
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
        claims = read_access_claims(token, key=res.settings.resolved_secret_key())
    except InvalidAccessToken:
        return None, "The access token is not valid; sign in again."
    refusal = await _refusal(res, claims)
    return (None, refusal) if refusal else (claims, "")


async def _refusal(res: AppResources, claims: AccessClaims) -> str:
    """Why the token may no longer be used (account gone, token ended); "" if it may."""
    async with res.sessions() as session:
        principal, refusal = await principal_for_access(session, claims)
    return "" if principal is not None else refusal[:120]


async def _stream(live: _Live) -> tuple[int | None, str]:
    """Send queued events until the client leaves (None) or we end it (a close code)."""
    client_left = asyncio.create_task(_until_client_leaves(live.websocket))
    sender = asyncio.create_task(_send_events(live))
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


async def _send_events(live: _Live) -> tuple[int, str]:
    """Forward the connection's events until the token expires or the sign-in ends; re-read
    the user every ``recheck_seconds``, busy or not."""
    loop = asyncio.get_running_loop()
    expires_at = loop.time() + (live.claims.expires_at - time.time())
    recheck_at = loop.time() + live.recheck_seconds
    while True:
        wake_at = min(recheck_at, expires_at)
        try:
            text = await asyncio.wait_for(
                live.connection.next(), timeout=max(0.0, wake_at - loop.time())
            )
        except TimeoutError:
            text = ""
        if loop.time() >= expires_at:
            return CLOSE_UNAUTHENTICATED, "The access token has expired; reconnect with a new one."
        if live.connection.ended:
            return CLOSE_UNAUTHENTICATED, "Your sign-in was ended; sign in again."
        if loop.time() >= recheck_at:
            refusal = await _refusal(live.res, live.claims)
            if refusal:
                return CLOSE_UNAUTHENTICATED, refusal
            recheck_at = loop.time() + live.recheck_seconds
        if text is None:
            return CLOSE_TOO_SLOW, "Too many events were waiting; reconnect."
        if text:
            await live.websocket.send_text(text)
