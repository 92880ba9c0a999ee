"""The Redis Streams bus: consumer groups, acks and takeover of a dead consumer's deliveries.

Topic ``t`` is the stream ``merge-assist:t``. ``XADD`` trims it to about ``maxlen`` entries;
groups are created with ``XGROUP CREATE ... $ MKSTREAM``; consumers read with ``XREADGROUP``
(blocking at most ``block_ms`` at a time) and ``XACK``; before each read a consumer takes over,
with ``XAUTOCLAIM``, one delivery that has stayed un-acked for ``idle_ms`` (its consumer died).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from merge_assist.kit.bus.base import (
    DEFAULT_IDLE_MS,
    DEFAULT_MAXLEN,
    BusUnavailable,
    Delivery,
    Event,
    Subscription,
    check_name,
    encode_payload,
)

log = logging.getLogger(__name__)

KEY_PREFIX = "merge-assist:"
PAYLOAD_FIELD = "payload"
DEFAULT_BLOCK_MS = 1_000


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    """Turn Redis connection failures into ``BusUnavailable`` (without the URL: it may hold a
    password)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise BusUnavailable(f"Redis is not reachable: {type(exc).__name__}") from exc


class RedisStreamsBus:
    """An ``EventBus`` on Redis Streams; any number of processes share it."""

    def __init__(
        self,
        url: str,
        *,
        idle_ms: int = DEFAULT_IDLE_MS,
        maxlen: int = DEFAULT_MAXLEN,
        block_ms: int = DEFAULT_BLOCK_MS,
    ) -> None:
        if idle_ms < 1 or maxlen < 1 or block_ms < 1:
            raise ValueError("idle_ms, maxlen and block_ms must be positive")
        self.idle_ms = idle_ms
        self.maxlen = maxlen
        # Blocking reads end often enough to take over stale deliveries and to notice close().
        self.block_ms = min(block_ms, idle_ms)
        self.redis: aioredis.Redis = aioredis.Redis.from_url(url, decode_responses=True)
        self._closed = False

    @staticmethod
    def stream_key(topic: str) -> str:
        """The Redis key of ``topic``'s stream."""
        return KEY_PREFIX + check_name("topic", topic)

    async def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        """``XADD`` the event (trimming the stream to about ``maxlen``); returns its id."""
        if self._closed:
            raise RuntimeError("the event bus is closed")
        fields: dict[Any, Any] = {PAYLOAD_FIELD: encode_payload(payload)}
        async with _reachable():
            event_id = await self.redis.xadd(
                self.stream_key(topic), fields, maxlen=self.maxlen, approximate=True
            )
        return str(event_id)

    def subscribe(self, topic: str, group: str, consumer: str) -> RedisStreamsSubscription:
        """A subscription of ``consumer`` in ``group`` on ``topic``."""
        return RedisStreamsSubscription(self, topic, group, consumer)

    async def close(self) -> None:
        """Close the connection pool; reads end at their next wake-up."""
        self._closed = True
        await self.redis.aclose()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed


class RedisStreamsSubscription(Subscription):
    """One consumer of a Redis Streams consumer group."""

    def __init__(self, bus: RedisStreamsBus, topic: str, group: str, consumer: str) -> None:
        super().__init__(topic, group, consumer)
        self._bus = bus
        self._key = bus.stream_key(topic)
        self._claim_cursor = "0-0"

    def _bus_closed(self) -> bool:
        return self._bus.closed

    async def _create_group(self) -> None:
        async with _reachable():
            try:
                await self._bus.redis.xgroup_create(self._key, self.group, id="$", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _next(self, max_wait: float | None) -> Delivery | None:
        deadline = None if max_wait is None else time.monotonic() + max_wait
        while not (self._closed or self._bus.closed):
            block_ms = self._bus.block_ms
            if deadline is not None:
                block_ms = max(0, min(block_ms, int((deadline - time.monotonic()) * 1000)))
            try:
                delivery = await self._claim_stale() or await self._read_new(block_ms)
            except BusUnavailable:
                if self._closed or self._bus.closed:
                    return None  # close() cut the connection under a blocking read
                raise
            if delivery is not None:
                return delivery
            if deadline is not None and time.monotonic() >= deadline:
                return None
        return None

    async def _read_new(self, block_ms: int) -> Delivery | None:
        async with _reachable():
            try:
                response: Any = await self._bus.redis.xreadgroup(
                    self.group,
                    self.consumer,
                    {self._key: ">"},
                    count=1,
                    block=block_ms or None,  # 0 would block forever; None polls once
                )
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # The stream was deleted under us (e.g. by an operator): recreate and go on.
                await self._create_group()
                return None
        for _key, messages in response or []:
            for message_id, fields in messages:
                return self._delivery(message_id, fields, attempt=1)
        return None

    async def _claim_stale(self) -> Delivery | None:
        async with _reachable():
            response: Any = await self._bus.redis.xautoclaim(
                self._key,
                self.group,
                self.consumer,
                min_idle_time=self._bus.idle_ms,
                start_id=self._claim_cursor,
                count=1,
            )
        # [next cursor, [(id, fields)], deleted ids]; "0-0" means the scan starts over.
        self._claim_cursor = response[0]
        for message_id, fields in response[1]:
            if message_id is None or fields is None:
                continue  # trimmed away while pending: nothing left to deliver
            attempt = await self._times_delivered(message_id)
            log.info(
                "bus redelivery",
                extra={"topic": self.topic, "group": self.group, "event_id": message_id},
            )
            return self._delivery(message_id, fields, attempt=attempt)
        return None

    async def _times_delivered(self, message_id: str) -> int:
        async with _reachable():
            pending = await self._bus.redis.xpending_range(
                self._key, self.group, min=message_id, max=message_id, count=1
            )
        return int(pending[0]["times_delivered"]) if pending else 1

    def _delivery(self, message_id: str, fields: Mapping[str, str], *, attempt: int) -> Delivery:
        try:
            payload = json.loads(fields[PAYLOAD_FIELD])
        except (KeyError, ValueError):
            # Not ours (someone XADDed by hand): deliver it empty rather than wedge the group.
            log.warning(
                "bus event without a JSON payload",
                extra={"topic": self.topic, "event_id": message_id},
            )
            payload = {}
        return Delivery(Event(self.topic, payload, str(message_id)), attempt, self)

    async def delete_group(self) -> None:
        """``XGROUP DESTROY`` the group (nothing if the stream is gone)."""
        async with _reachable():
            try:
                await self._bus.redis.xgroup_destroy(self._key, self.group)
            except ResponseError as exc:
                if "no such key" not in str(exc).lower():
                    raise

    async def ack(self, event: Event | Delivery) -> None:
        """``XACK`` the event for this group."""
        target = event.event if isinstance(event, Delivery) else event
        async with _reachable():
            await self._bus.redis.xack(self._key, self.group, target.id)
