"""A live event: a typed, JSON-only message for the dashboards of some users (or everyone).

Events carry ids and counts, never secrets; a dashboard reloads what it shows when it hears one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SESSION_ENDED = "session.ended"
"""Addressed to a user whose sign-ins were ended: the hub closes their sockets on delivery."""

_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


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
