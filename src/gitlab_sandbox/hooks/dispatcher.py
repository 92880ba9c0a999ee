"""Webhook delivery as GitLab 17/18 does it, with opt-in retries, ordering and seeded faults.

GitLab (``app/services/web_hook_service.rb``) makes **one attempt** per event, from a Sidekiq
job per event, so deliveries to one hook run side by side with **no order guarantee**; a hook
that keeps failing is disabled (``hooks/health.py``). Each request carries
``X-Gitlab-Webhook-UUID`` (random per request), ``X-Gitlab-Event-UUID`` (the UUID of the
request or job that triggered the hooks, shared by all of them: ``request_scope``) and
``Idempotency-Key`` (one per delivery, the same when it is sent again).

Faults, all off by default: ``retries`` (attempts after a connection error, 429 or 5xx),
``ordered`` (one FIFO queue per hook), and drop, duplicate and reorder rates drawn from a
seeded RNG when an event is enqueued, so the same sequence of events meets the same faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from gitlab_sandbox.clock import SandboxClock
from gitlab_sandbox.hooks.health import HookHealth

logger = logging.getLogger(__name__)

# X-Gitlab-Event header value -> the hook flag that subscribes to it.
EVENT_FLAGS = {
    "Push Hook": "push_events",
    "Tag Push Hook": "tag_push_events",
    "Merge Request Hook": "merge_requests_events",
    "Pipeline Hook": "pipeline_events",
    "Note Hook": "note_events",
    "Job Hook": "job_events",
}
ALL_EVENTS = frozenset(EVENT_FLAGS.values())
USER_AGENT = "GitLab/17.5.0"

# The UUID of the request (or background job) whose changes trigger hooks right now.
_REQUEST_UUID: ContextVar[str | None] = ContextVar("webhook_request_uuid", default=None)


@contextmanager
def request_scope() -> Iterator[str]:
    """Within the block, every hook triggered shares one ``X-Gitlab-Event-UUID`` (as the hooks
    one GitLab request triggers do: ``Gitlab::WebHooks::RecursionDetection``). Inside a scope
    already open (a request, or a task started by one) the block joins it."""
    existing = _REQUEST_UUID.get()
    if existing is not None:
        yield existing
        return
    value = str(uuid.uuid4())
    token = _REQUEST_UUID.set(value)
    try:
        yield value
    finally:
        _REQUEST_UUID.reset(token)


def current_request_uuid() -> str:
    """The UUID of the current request scope; a fresh one outside any."""
    return _REQUEST_UUID.get() or str(uuid.uuid4())


@dataclass(frozen=True)
class HookTarget:
    """A project hook: where to send, the secret token, which events it wants."""

    url: str
    token: str | None = None
    events: frozenset[str] = ALL_EVENTS  # hook flags such as "merge_requests_events"
    id: int = 0
    # The hook's failure state, shared with the store (None: never disabled).
    health: HookHealth | None = field(default=None, compare=False)

    def wants(self, event_name: str) -> bool:
        """Whether the hook subscribes to this X-Gitlab-Event."""
        return EVENT_FLAGS.get(event_name) in self.events


@dataclass
class WebhookFaults:
    """Delivery faults: rates are probabilities per event; ``retries`` and ``ordered`` turn on
    behaviour GitLab does not have (it sends once, in no set order)."""

    retries: int = 0  # attempts after a connection error, 429 or 5xx (GitLab: none)
    ordered: bool = False  # one FIFO queue per hook (GitLab: no order guarantee)
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0  # hold the event back and deliver it after the next one
    reorder_hold_seconds: float = 0.5  # real seconds a held event waits for a successor

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "reorder_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1.")
        if not 0 <= self.retries <= 10:
            raise ValueError("retries must be between 0 and 10.")


@dataclass(frozen=True)
class RetryPolicy:
    """Timing of deliveries: the request timeout and, when the ``retries`` fault is on, the
    exponential backoff between attempts (real seconds)."""

    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    timeout_seconds: float = 10.0

    def delay(self, attempt: int) -> float:
        """How long to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempt - 1)))


@dataclass
class DeliveryRecord:
    """What happened to one event for one hook (shown on ``/-/sandbox/``)."""

    hook_id: int
    url: str
    event_name: str
    event_uuid: str
    idempotency_key: str
    # queued | held | delivering | delivered | failed | dropped | disabled | canceled
    status: str = "queued"
    response_code: int | None = None
    attempts: int = 0
    deliveries: int = 0  # successful POSTs (2 when duplicated)
    duplicated: bool = False
    reordered: bool = False
    error: str | None = None
    enqueued_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        data = asdict(self)
        data["enqueued_at"] = self.enqueued_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return data


@dataclass
class _Outgoing:
    hook: HookTarget
    record: DeliveryRecord
    body: bytes
    headers: dict[str, str]  # without X-Gitlab-Webhook-UUID, which is new for every request
    copies: int  # 2 when duplicated
    hold: bool


class _HookQueue:
    def __init__(self, hook: HookTarget) -> None:
        self.hook = hook
        self.queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self.log: deque[DeliveryRecord] = deque(maxlen=500)
        self.worker: asyncio.Task[None] | None = None


class WebhookDispatcher:
    """Delivers hook events like GitLab: once each, side by side; faults on request."""

    def __init__(
        self,
        *,
        instance_url: str,
        seed: int = 0,
        faults: WebhookFaults | None = None,
        retry: RetryPolicy | None = None,
        user_agent: str = USER_AGENT,
        clock: SandboxClock | None = None,
    ) -> None:
        self.instance_url = instance_url
        self.clock = clock
        self.faults = faults or WebhookFaults()
        self.retry = retry or RetryPolicy()
        self.user_agent = user_agent
        self._seed = seed
        self._rng = random.Random(seed)
        self._queues: dict[tuple[int, str], _HookQueue] = {}
        self._sends: set[asyncio.Task[None]] = set()
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._client: httpx.AsyncClient | None = None

    def set_faults(self, faults: WebhookFaults) -> None:
        """Replace the fault settings (takes effect for events enqueued from now on)."""
        self.faults = faults

    def enqueue(
        self, hook: HookTarget, event_name: str, payload: Mapping[str, Any]
    ) -> DeliveryRecord | None:
        """Queue one event for a hook; None when the hook does not subscribe to it. A hook
        GitLab has disabled gets nothing: the record says ``disabled``."""
        if event_name not in EVENT_FLAGS:
            raise ValueError(f"Unknown webhook event {event_name!r}.")
        if not hook.wants(event_name):
            return None
        hook_queue = self._queue_of(hook)
        record = DeliveryRecord(
            hook.id, hook.url, event_name, current_request_uuid(), str(uuid.uuid4())
        )
        hook_queue.log.append(record)
        if hook.health is not None and not hook.health.executable(self._now()):
            record.status, record.finished_at = "disabled", self._now()
            return record
        # Draw all three in a fixed order so one fault never shifts the others' sequence.
        dropped = self._rng.random() < self.faults.drop_rate
        duplicated = self._rng.random() < self.faults.duplicate_rate
        held = self._rng.random() < self.faults.reorder_rate
        if dropped:
            record.status, record.finished_at = "dropped", self._now()
            return record
        record.duplicated, record.reordered = duplicated, held
        outgoing = _Outgoing(
            hook,
            record,
            json.dumps(payload).encode(),
            self._headers(hook, record),
            2 if duplicated else 1,
            held,
        )
        self._outstanding += 1
        self._idle.clear()
        if self.faults.ordered:
            hook_queue.queue.put_nowait(outgoing)
            if hook_queue.worker is None or hook_queue.worker.done():
                hook_queue.worker = asyncio.create_task(self._work(hook_queue))
        else:
            task = asyncio.create_task(self._send_alone(outgoing))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
        return record

    async def deliver_now(
        self, hook: HookTarget, event_name: str, payload: Mapping[str, Any]
    ) -> DeliveryRecord:
        """One delivery sent at once, without faults or retries (GitLab's "Test" button and
        ``POST /projects/:id/hooks/:hook_id/test/:trigger``); the record says how it went."""
        record = DeliveryRecord(
            hook.id, hook.url, event_name, current_request_uuid(), str(uuid.uuid4())
        )
        self._queue_of(hook).log.append(record)
        body = json.dumps(payload).encode()
        outgoing = _Outgoing(hook, record, body, self._headers(hook, record), 1, False)
        record.attempts = 1
        await self._post(outgoing)
        if record.status == "delivering":  # a transport error or a 5xx: a test is not retried
            record.status = "failed"
        record.finished_at = self._now()
        return record

    async def drain(self) -> None:
        """Wait until every queued event has been delivered, failed, or given up."""
        await self._idle.wait()

    def deliveries(self, hook_id: int | None = None) -> list[DeliveryRecord]:
        """The delivery log (of one hook), oldest first."""
        records = [r for q in self._queues.values() for r in q.log]
        if hook_id is not None:
            records = [r for r in records if r.hook_id == hook_id]
        return sorted(records, key=lambda r: r.enqueued_at)

    def stats(self) -> dict[str, int]:
        """Counts of delivery outcomes."""
        counts: dict[str, int] = {}
        for record in self.deliveries():
            counts[record.status] = counts.get(record.status, 0) + 1
        counts["attempts"] = sum(r.attempts for r in self.deliveries())
        return counts

    def reset(self, seed: int | None = None) -> None:
        """Forget the delivery logs and restart the fault RNG (queued events still go out)."""
        for hook_queue in self._queues.values():
            hook_queue.log.clear()
        self._seed = self._seed if seed is None else seed
        self._rng = random.Random(self._seed)

    async def aclose(self) -> None:
        """Stop the workers and close the HTTP client; undelivered events are marked canceled."""
        workers = [q.worker for q in self._queues.values() if q.worker is not None]
        workers.extend(self._sends)
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for hook_queue in self._queues.values():
            hook_queue.worker = None
            while not hook_queue.queue.empty():
                hook_queue.queue.get_nowait().record.status = "canceled"
            for record in hook_queue.log:
                if record.status in ("queued", "held", "delivering"):
                    record.status = "canceled"
        self._outstanding = 0
        self._idle.set()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _queue_of(self, hook: HookTarget) -> _HookQueue:
        key = (hook.id, hook.url)
        hook_queue = self._queues.get(key)
        if hook_queue is None:
            hook_queue = self._queues[key] = _HookQueue(hook)
        hook_queue.hook = hook  # the token or events may have been edited
        return hook_queue

    def _headers(self, hook: HookTarget, record: DeliveryRecord) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "Idempotency-Key": record.idempotency_key,
            "X-Gitlab-Event": record.event_name,
            "X-Gitlab-Instance": self.instance_url,
            "X-Gitlab-Event-UUID": record.event_uuid,
        }
        if hook.token:
            headers["X-Gitlab-Token"] = hook.token
        return headers

    async def _send_alone(self, item: _Outgoing) -> None:
        if item.hold:  # the reorder fault: let later events overtake this one
            item.record.status = "held"
            await asyncio.sleep(self.faults.reorder_hold_seconds)
        await self._finish(item)

    async def _work(self, hook_queue: _HookQueue) -> None:
        held: _Outgoing | None = None
        while True:
            if held is None:
                item = await hook_queue.queue.get()
            else:
                try:
                    item = await asyncio.wait_for(
                        hook_queue.queue.get(), self.faults.reorder_hold_seconds
                    )
                except TimeoutError:  # nothing came after it: deliver it late anyway
                    await self._finish(held)
                    held = None
                    continue
            if item.hold and held is None:
                held, item.record.status = item, "held"
                continue
            await self._finish(item)
            if held is not None:
                await self._finish(held)
                held = None

    async def _finish(self, item: _Outgoing) -> None:
        try:
            for _ in range(item.copies):
                await self._deliver(item)
        finally:
            item.record.finished_at = self._now()
            self._outstanding -= 1
            if self._outstanding <= 0:
                self._outstanding = 0
                self._idle.set()

    async def _deliver(self, item: _Outgoing) -> None:
        record = item.record
        record.status = "delivering"
        attempts = 1 + self.faults.retries
        for attempt in range(1, attempts + 1):
            record.attempts += 1
            retryable = await self._post(item)
            if record.status in ("delivered", "failed") and not retryable:
                break
            if attempt < attempts:
                await asyncio.sleep(self.retry.delay(attempt))
        else:
            record.status = "failed"
        self._update_health(item.hook, record.status == "delivered")

    def _update_health(self, hook: HookTarget, succeeded: bool) -> None:
        # WebHooks::LogExecutionService: a 2xx/3xx answer enables, anything else backs off.
        if hook.health is None:
            return
        if succeeded:
            hook.health.enable()
        else:
            hook.health.backoff(self._now())

    async def _post(self, item: _Outgoing) -> bool:
        """One POST; returns True when a failure is worth retrying."""
        record = item.record
        headers = {**item.headers, "X-Gitlab-Webhook-UUID": str(uuid.uuid4())}
        try:
            response = await self._http().post(record.url, content=item.body, headers=headers)
        except httpx.HTTPError as error:
            record.response_code, record.error = None, f"{type(error).__name__}: {error}"
            record.status = "delivering"
            return True
        record.response_code = response.status_code
        if response.is_success or response.is_redirect:
            record.status, record.error = "delivered", None
            record.deliveries += 1
            return False
        record.error = f"HTTP {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            record.status = "delivering"
            return True
        record.status = "failed"  # not worth retrying even with the retries fault
        return False

    def _now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.retry.timeout_seconds), follow_redirects=False
            )
        return self._client


__all__ = [
    "ALL_EVENTS",
    "EVENT_FLAGS",
    "DeliveryRecord",
    "HookTarget",
    "RetryPolicy",
    "WebhookDispatcher",
    "WebhookFaults",
    "current_request_uuid",
    "request_scope",
]
