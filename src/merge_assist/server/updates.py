"""Live updates for open dashboards: one WebSocket, ``/api/ws/updates``, fed after commits.

A feature publishes with ``publish_after_commit(session, LiveEvent.for_users(...))`` while it
works. The event waits in the session and reaches the ``UpdatesHub`` only once that session's
transaction commits (it is dropped on rollback), so a browser never hears of something the
database does not hold. A request's session is tied to the app's hub by the ``LiveSession``
dependency; a unit of work outside a request calls ``attach(session, hub_of(res))``.

The socket protocol: the client's first message is ``{"type": "auth", "token": "<access
token>"}`` (never a token in the URL); a bad one closes the socket with 4401. Then the server
sends ``{"type": "ready", "user_id": ...}`` and, from then on, the events addressed to that user
or to everyone, as JSON objects with a ``type``. The user is re-read from the database now and
then; a deactivated user's socket is closed with 4401.

The hub reaches the sockets of this process. When the event bus reaches other processes (Redis
Streams, ``MERGE_ASSIST_REDIS_URL``), the hub hands every committed event to its relay instead
(``server.live_relay``): the relay appends it to the bus, and each process serving sockets reads
it back in a consumer group of its own and delivers it to its sockets, once each, whichever
process published it (a worker, an API replica, or ``serve`` itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from merge_assist.auth.principal import Principal
from merge_assist.auth.service import load_principal
from merge_assist.auth.tokens import InvalidAccessToken, read_access_token
from merge_assist.kit.web import AppResources, Resources, Session

log = logging.getLogger(__name__)

UPDATES_EXTRAS_KEY = "updates"
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_SLOW = 1013  # "try again later": the client reconnects and reloads what it shows
MAX_AUTH_MESSAGE_CHARS = 8192
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_PENDING_KEY = "merge_assist.updates.pending"
_HUB_KEY = "merge_assist.updates.hub"
_LISTENING_KEY = "merge_assist.updates.listening"


@dataclass(frozen=True)
class LiveEvent:
    """An event for open dashboards: ``{"type": type, **data}`` sent to ``user_ids``
    (``None``: every signed-in connection). Carry ids and counts, never secrets."""

    type: str
    data: Mapping[str, Any]
    user_ids: frozenset[int] | None

    def __post_init__(self) -> None:
        if not _EVENT_TYPE.match(self.type):
            raise ValueError(f"live event type {self.type!r} must look like 'message.new'")
        if "type" in self.data:
            raise ValueError("live event data must not carry its own 'type'")

    @classmethod
    def for_users(cls, type: str, user_ids: Iterable[int], /, **data: Any) -> LiveEvent:
        """An event only the given users' connections receive."""
        return cls(type, data, frozenset(user_ids))

    @classmethod
    def for_everyone(cls, type: str, /, **data: Any) -> LiveEvent:
        """An event every signed-in connection receives (nothing user-specific in it)."""
        return cls(type, data, None)

    def encode(self) -> str:
        """The JSON text sent on the socket; ``TypeError`` if the data is not JSON."""
        try:
            return json.dumps({"type": self.type, **self.data}, allow_nan=False, default=_iso)
        except ValueError as exc:
            raise TypeError(f"live event data must be JSON: {exc}") from exc


def _iso(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(eq=False)
class Connection:
    """One open socket's queue of encoded events (``None`` at the end: it fell behind)."""

    user_id: int
    limit: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    dropped: bool = False

    def offer(self, text: str) -> None:
        """Queue ``text``; a connection that falls ``limit`` events behind is ended instead."""
        if self.dropped:
            return
        if self.queue.qsize() >= self.limit:
            self.dropped = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(text)

    async def next(self) -> str | None:
        """The next event's text; ``None`` once the connection fell behind."""
        return await self.queue.get()


class LiveEventRelay(Protocol):
    """Carries events to every process's hub (``server.live_relay.LiveRelay``)."""

    def send(self, live_event: LiveEvent) -> None:
        """Queue ``live_event`` for every process's hub (never raises for a bus failure)."""
        ...


class UpdatesHub:
    """Fan-out of live events to the sockets open on this process (``deliver``); ``publish``
    goes through the relay when there is one, so other processes' sockets hear it too."""

    relay: LiveEventRelay | None = None

    def __init__(self, *, queue_limit: int = 256, recheck_seconds: float = 60.0) -> None:
        if queue_limit < 1 or recheck_seconds <= 0:
            raise ValueError("queue_limit and recheck_seconds must be positive")
        self.queue_limit = queue_limit
        # How often an idle socket re-reads its user (deactivation closes it).
        self.recheck_seconds = recheck_seconds
        self._connections: dict[int, set[Connection]] = {}
        # Publishing may come from another thread (a worker with its own loop).
        self._lock = threading.Lock()

    def connect(self, user_id: int) -> Connection:
        """Register a socket of ``user_id`` (call from the socket's event loop)."""
        connection = Connection(user_id, self.queue_limit, asyncio.get_running_loop())
        with self._lock:
            self._connections.setdefault(user_id, set()).add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forget a socket (idempotent)."""
        with self._lock:
            held = self._connections.get(connection.user_id)
            if held is not None:
                held.discard(connection)
                if not held:
                    del self._connections[connection.user_id]

    def connection_count(self, user_id: int | None = None) -> int:
        """Open sockets of ``user_id``, or of everyone."""
        with self._lock:
            if user_id is not None:
                return len(self._connections.get(user_id, ()))
            return sum(len(held) for held in self._connections.values())

    def publish(self, live_event: LiveEvent) -> int:
        """Send the event to the sockets it is addressed to, on every process when there is a
        relay (then 0 is returned: delivery happens when the relay reads it back), else on this
        one (returns how many)."""
        if self.relay is not None:
            live_event.encode()  # fail in the caller, as without a relay
            self.relay.send(live_event)
            return 0
        return self.deliver(live_event)

    def deliver(self, live_event: LiveEvent) -> int:
        """Hand the event to every socket of this process it is addressed to; returns how many."""
        text = live_event.encode()
        with self._lock:
            if live_event.user_ids is None:
                targets = [c for held in self._connections.values() for c in held]
            else:
                targets = [c for uid in live_event.user_ids for c in self._connections.get(uid, ())]
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for connection in targets:
            if connection.loop is current:
                connection.offer(text)
            else:
                # asyncio queues are not thread-safe: hand over to the socket's own loop.
                with contextlib.suppress(RuntimeError):  # that loop is closed: socket gone
                    connection.loop.call_soon_threadsafe(connection.offer, text)
        return len(targets)


def hub_of(res: AppResources) -> UpdatesHub:
    """The app's hub (made on first use and kept on the app's resources); it relays through
    the event bus when the bus reaches other processes."""
    hub: UpdatesHub | None = res.extras.get(UPDATES_EXTRAS_KEY)
    if hub is None:
        from merge_assist.server.live_relay import relay_for  # it builds on this module

        hub = res.extras[UPDATES_EXTRAS_KEY] = UpdatesHub()
        hub.relay = relay_for(res, hub)
    return hub


def publish_after_commit(session: AsyncSession, live_event: LiveEvent) -> None:
    """Send ``live_event`` once ``session`` commits (dropped if it rolls back).

    Delivery needs a hub attached to the session (``LiveSession`` or ``attach``); without one
    nobody on this process listens and the event is dropped at commit. Do not publish inside a
    savepoint you may roll back: only the outer transaction's outcome is followed.
    """
    live_event.encode()  # fail now, in the caller, not after the commit
    sync = session.sync_session
    sync.info.setdefault(_PENDING_KEY, []).append(live_event)
    _listen(sync)


def attach(session: AsyncSession, hub: UpdatesHub) -> None:
    """Deliver the events published on ``session`` to ``hub`` after each commit."""
    session.sync_session.info[_HUB_KEY] = hub
    _listen(session.sync_session)


def _listen(sync: SyncSession) -> None:
    if sync.info.get(_LISTENING_KEY):
        return
    sync.info[_LISTENING_KEY] = True
    event.listen(sync, "after_commit", _deliver_pending)
    event.listen(sync, "after_rollback", _drop_pending)


def _deliver_pending(sync: SyncSession) -> None:
    pending: list[LiveEvent] = sync.info.pop(_PENDING_KEY, [])
    hub: UpdatesHub | None = sync.info.get(_HUB_KEY)
    if not pending:
        return
    if hub is None:
        log.debug("live events dropped: no hub attached", extra={"count": len(pending)})
        return
    for live_event in pending:
        try:
            hub.publish(live_event)
        except Exception:  # the commit happened: a failed notification must not undo the answer
            log.exception("live event not delivered", extra={"type": live_event.type})


def _drop_pending(sync: SyncSession) -> None:
    sync.info.pop(_PENDING_KEY, None)


async def live_session(session: Session, res: Resources) -> AsyncSession:
    """The request's session, with its live events delivered to the app's hub after commit."""
    attach(session, hub_of(res))
    return session


LiveSession = Annotated[AsyncSession, Depends(live_session)]

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
    except ValueError:
        return None, "The first message must be JSON."
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
