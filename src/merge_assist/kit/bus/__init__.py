"""The event bus: wake-ups between processes (see ``base`` for the contract)."""

from __future__ import annotations

from merge_assist.kit.bus.base import (
    DEFAULT_IDLE_MS,
    DEFAULT_MAXLEN,
    BusError,
    BusUnavailable,
    Delivery,
    Event,
    EventBus,
    Subscription,
)
from merge_assist.kit.bus.memory import InProcessBus
from merge_assist.kit.bus.redis_streams import RedisStreamsBus
from merge_assist.kit.settings import Settings

__all__ = [
    "DEFAULT_IDLE_MS",
    "DEFAULT_MAXLEN",
    "BusError",
    "BusUnavailable",
    "Delivery",
    "Event",
    "EventBus",
    "InProcessBus",
    "RedisStreamsBus",
    "Subscription",
    "bus_from_settings",
]


def bus_from_settings(
    settings: Settings, *, idle_ms: int = DEFAULT_IDLE_MS, maxlen: int = DEFAULT_MAXLEN
) -> EventBus:
    """Redis Streams when ``MERGE_ASSIST_REDIS_URL`` is set, else the in-process bus."""
    if settings.redis_url:
        return RedisStreamsBus(settings.redis_url, idle_ms=idle_ms, maxlen=maxlen)
    return InProcessBus(idle_ms=idle_ms, maxlen=maxlen)
