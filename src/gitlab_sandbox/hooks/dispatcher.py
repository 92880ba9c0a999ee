"""Webhook delivery: one FIFO queue per hook, GitLab's headers, retries, and seeded faults.

Fault decisions (drop, duplicate, reorder) are drawn from a seeded RNG when an event is
enqueued, so the same sequence of events meets the same faults on every run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from gitlab_sandbox.clock import SandboxClock

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


@dataclass(frozen=True)
class HookTarget:
    """A project hook: where to send, the secret token, which events it wants."""

    url: str
    token: str | None = None
    events: frozenset[str] = ALL_EVENTS  # hook flags such as "merge_requests_events"
    id: int = 0
    uuid: str = ""  # X-Gitlab-Webhook-UUID; derived from id and url when empty

    @property
    def webhook_uuid(self) -> str:
        """A stable identifier of this hook."""
        return self.uuid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.id}:{self.url}"))

    def wants(self, event_name: str) -> bool:
        """Whether the hook subscribes to this X-Gitlab-Event."""
        return EVENT_FLAGS.get(event_name) in self.events


@dataclass
class WebhookFaults:
    """Delivery faults, each a probability per event."""

    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0  # hold the event back and deliver it after the next one
    reorder_hold_seconds: float = 0.5  # real seconds a held event waits for a successor

    def __post_init__(self) -> None:
        for name in ("drop_rate", "duplicate_rate", "reorder_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1.")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on connection errors, 429 and 5xx, with exponential backoff (real seconds)."""

    max_attempts: int = 4
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
    status: str = "queued"  # queued | held | delivering | delivered | failed | dropped | canceled
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
    record: DeliveryRecord
    body: bytes
    headers: dict[str, str]
    copies: int  # 2 when duplicated
    hold: bool


class _HookQueue:
    def __init__(self, hook: HookTarget) -> None:
        self.hook = hook
        self.queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self.log: deque[DeliveryRecord] = deque(maxlen=500)
        self.worker: asyncio.Task[None] | None = None


class WebhookDispatcher:
    """Delivers hook events in order per hook, with retries and optional faults."""

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
        """Queue one event for a hook; None when the hook does not subscribe to it."""
        if event_name not in EVENT_FLAGS:
            raise ValueError(f"Unknown webhook event {event_name!r}.")
        if not hook.wants(event_name):
            return None
        key = (hook.id, hook.url)
        hook_queue = self._queues.get(key)
        if hook_queue is None:
            hook_queue = self._queues[key] = _HookQueue(hook)
        hook_queue.hook = hook  # the token or events may have been edited
        record = DeliveryRecord(hook.id, hook.url, event_name, str(uuid.uuid4()), str(uuid.uuid4()))
        hook_queue.log.append(record)
        # Draw all three in a fixed order so one fault never shifts the others' sequence.
        dropped = self._rng.random() < self.faults.drop_rate
        duplicated = self._rng.random() < self.faults.duplicate_rate
        held = self._rng.random() < self.faults.reorder_rate
        if dropped:
            record.status, record.finished_at = "dropped", self._now()
            return record
        record.duplicated, record.reordered = duplicated, held
        body = json.dumps(payload).encode()
        outgoing = _Outgoing(
            record, body, self._headers(hook, record), 2 if duplicated else 1, held
        )
        self._outstanding += 1
        self._idle.clear()
        hook_queue.queue.put_nowait(outgoing)
        if hook_queue.worker is None or hook_queue.worker.done():
            hook_queue.worker = asyncio.create_task(self._work(hook_queue))
        return record

    async def deliver_now(
        self, hook: HookTarget, event_name: str, payload: Mapping[str, Any]
    ) -> DeliveryRecord:
        """One delivery sent at once, without faults or retries (GitLab's "Test" button and
        ``POST /projects/:id/hooks/:hook_id/test/:trigger``); the record says how it went."""
        record = DeliveryRecord(hook.id, hook.url, event_name, str(uuid.uuid4()), str(uuid.uuid4()))
        key = (hook.id, hook.url)
        hook_queue = self._queues.get(key)
        if hook_queue is None:
            hook_queue = self._queues[key] = _HookQueue(hook)
        hook_queue.log.append(record)
        body = json.dumps(payload).encode()
        outgoing = _Outgoing(record, body, self._headers(hook, record), 1, hold=False)
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
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for hook_queue in self._queues.values():
            hook_queue.worker = None
            while not hook_queue.queue.empty():
                hook_queue.queue.get_nowait().record.status = "canceled"
        self._outstanding = 0
        self._idle.set()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _headers(self, hook: HookTarget, record: DeliveryRecord) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            "X-Gitlab-Event": record.event_name,
            "X-Gitlab-Event-UUID": record.event_uuid,
            "X-Gitlab-Webhook-UUID": hook.webhook_uuid,
            "X-Gitlab-Instance": self.instance_url,
            "Idempotency-Key": record.idempotency_key,
        }
        if hook.token:
            headers["X-Gitlab-Token"] = hook.token
        return headers

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
        for attempt in range(1, self.retry.max_attempts + 1):
            record.attempts += 1
            retryable = await self._post(item)
            if record.status in ("delivered", "failed") and not retryable:
                return
            if attempt < self.retry.max_attempts:
                await asyncio.sleep(self.retry.delay(attempt))
        record.status = "failed"

    async def _post(self, item: _Outgoing) -> bool:
        """One POST; returns True when a failure is worth retrying."""
        record = item.record
        try:
            response = await self._http().post(record.url, content=item.body, headers=item.headers)
        except httpx.HTTPError as error:
            record.response_code, record.error = None, f"{type(error).__name__}: {error}"
            record.status = "delivering"
            return True
        record.response_code = response.status_code
        if response.is_success:
            record.status, record.error = "delivered", None
            record.deliveries += 1
            return False
        record.error = f"HTTP {response.status_code}"
        if response.status_code == 429 or response.status_code >= 500:
            record.status = "delivering"
            return True
        record.status = "failed"  # GitLab does not retry other 4xx answers
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
]
