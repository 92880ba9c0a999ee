"""Fault injection for the sandbox's HTTP surface, configurable at runtime.

Rules match a method and a path regex; a matching request may be delayed, answered with an
error (500/502/503, or 429 with ``Retry-After``), or held and then answered 504 as a gateway
would after a time-out. All draws come from one seeded RNG. ``/-/sandbox/`` is never touched,
so a test can always turn faults off again.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

ADMIN_PREFIX = "/-/sandbox"
_ALLOWED_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FaultRule:
    """One rule: which requests, and what goes wrong with them."""

    path: str  # regular expression searched in the request path
    method: str = "*"
    error_rate: float = 0.0
    statuses: tuple[int, ...] = (500, 502, 503)  # one is picked per injected error
    retry_after: int = 1  # seconds, sent with 429
    latency_ms: float = 0.0  # added to every matching request
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0  # how long a timed-out request is held before the 504

    def __post_init__(self) -> None:
        try:
            re.compile(self.path)
        except re.error as error:
            raise ValueError(
                f"The path pattern {self.path!r} is not a valid regex: {error}."
            ) from error
        for name in ("error_rate", "timeout_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1.")
        if not self.statuses or not set(self.statuses) <= _ALLOWED_STATUSES:
            raise ValueError("statuses must be chosen from 429, 500, 502, 503 and 504.")
        if self.latency_ms < 0 or self.timeout_seconds < 0 or self.retry_after < 0:
            raise ValueError("latency_ms, timeout_seconds and retry_after cannot be negative.")

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from JSON (``/-/sandbox/faults``); raises ValueError with a sentence."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown fault rule fields: {', '.join(sorted(unknown))}.")
        if "path" not in data or not isinstance(data["path"], str):
            raise ValueError("Every fault rule needs a 'path' regular expression.")
        values = dict(data)
        if "statuses" in values:
            if not isinstance(values["statuses"], list | tuple):
                raise ValueError("statuses must be a list of HTTP status codes.")
            values["statuses"] = tuple(values["statuses"])
        try:
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"A fault rule has a field of the wrong type: {error}.") from error


@dataclass
class SlowRebase:
    """Extra simulated seconds a ``PUT .../rebase`` stays ``rebase_in_progress``."""

    seconds: float = 0.0


@dataclass
class LongChecking:
    """Extra simulated seconds an MR reads ``checking`` after a change."""

    seconds: float = 0.0


@dataclass
class RuleCounters:
    """What a rule did so far."""

    matched: int = 0
    delayed: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    timeouts: int = 0


class FaultInjector:
    """The runtime state of fault injection: rules, seeded RNG, counters, slow operations."""

    def __init__(self, rules: list[FaultRule] | None = None, *, seed: int = 0) -> None:
        self.slow_rebase = SlowRebase()
        self.long_checking = LongChecking()
        self._seed = seed
        self._rng = random.Random(seed)
        self._rules: list[FaultRule] = []
        self._counters: list[RuleCounters] = []
        self.set_rules(rules or [])

    @property
    def rules(self) -> list[FaultRule]:
        """The active rules (first match wins)."""
        return list(self._rules)

    def set_rules(self, rules: list[FaultRule], *, seed: int | None = None) -> None:
        """Replace the rules and their counters; optionally restart the RNG."""
        self._rules = list(rules)
        self._counters = [RuleCounters() for _ in self._rules]
        if seed is not None:
            self._seed = seed
            self._rng = random.Random(seed)

    def configure(self, data: Mapping[str, Any]) -> None:
        """Apply ``{"rules": [...], "seed": n, "slow_rebase_seconds": s,
        "long_checking_seconds": s}`` (every key optional); ValueError on bad input."""
        unknown = set(data) - {"rules", "seed", "slow_rebase_seconds", "long_checking_seconds"}
        if unknown:
            raise ValueError(f"Unknown fault settings: {', '.join(sorted(unknown))}.")
        rules = self._rules
        if "rules" in data:
            if not isinstance(data["rules"], list):
                raise ValueError("rules must be a list of fault rules.")
            rules = [FaultRule.from_dict(rule) for rule in data["rules"]]
        seed = data.get("seed")
        if seed is not None and not isinstance(seed, int):
            raise ValueError("seed must be an integer.")
        slow = {
            key: _seconds(data, key) for key in ("slow_rebase_seconds", "long_checking_seconds")
        }
        self.set_rules(rules, seed=seed)
        if slow["slow_rebase_seconds"] is not None:
            self.slow_rebase.seconds = slow["slow_rebase_seconds"]
        if slow["long_checking_seconds"] is not None:
            self.long_checking.seconds = slow["long_checking_seconds"]

    def snapshot(self) -> dict[str, Any]:
        """Rules with their counters, and the slow-operation settings (JSON-ready)."""
        return {
            "seed": self._seed,
            "rules": [
                {**asdict(rule), "statuses": list(rule.statuses), "counters": _counters(c)}
                for rule, c in zip(self._rules, self._counters, strict=True)
            ],
            "slow_rebase_seconds": self.slow_rebase.seconds,
            "long_checking_seconds": self.long_checking.seconds,
        }

    def reset(self) -> None:
        """No rules, no slow operations, counters cleared, RNG restarted."""
        self.set_rules([], seed=self._seed)
        self.slow_rebase.seconds = 0.0
        self.long_checking.seconds = 0.0

    def decide(self, method: str, path: str) -> FaultDecision | None:
        """What to do with a request (None: nothing); counts what it decides."""
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return None
        for rule, counters in zip(self._rules, self._counters, strict=True):
            if not rule.matches(method, path):
                continue
            counters.matched += 1
            # Fixed draw order so one rate does not shift the other's sequence.
            timeout_draw, error_draw = self._rng.random(), self._rng.random()
            status_pick = self._rng.choice(rule.statuses)
            if rule.latency_ms > 0:
                counters.delayed += 1
            if timeout_draw < rule.timeout_rate:
                counters.timeouts += 1
                return FaultDecision(rule, rule.latency_ms / 1000, timeout=True)
            if error_draw < rule.error_rate:
                counters.errors[status_pick] = counters.errors.get(status_pick, 0) + 1
                return FaultDecision(rule, rule.latency_ms / 1000, status=status_pick)
            return FaultDecision(rule, rule.latency_ms / 1000)
        return None


@dataclass(frozen=True)
class FaultDecision:
    """The fault chosen for one request."""

    rule: FaultRule
    delay_seconds: float = 0.0
    status: int | None = None
    timeout: bool = False


class FaultMiddleware:
    """ASGI middleware applying a ``FaultInjector``'s rules to HTTP requests."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, fail or time out the request, or pass it through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        decision = self.injector.decide(scope["method"], scope["path"])
        if decision is None:
            await self.app(scope, receive, send)
            return
        if decision.delay_seconds > 0:
            await asyncio.sleep(decision.delay_seconds)
        if decision.timeout:
            await asyncio.sleep(decision.rule.timeout_seconds)
            await _respond(send, 504, {"message": "504 Gateway Timeout"})
        elif decision.status == 429:
            await _respond_throttled(send, decision.rule.retry_after)
        elif decision.status is not None:
            await _respond(send, decision.status, {"message": _MESSAGES[decision.status]})
        else:
            await self.app(scope, receive, send)


_MESSAGES = {
    429: "Retry later",
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
    504: "504 Gateway Timeout",
}


async def _respond(send: Send, status: int, body: dict[str, str]) -> None:
    content = json.dumps(body).encode()
    response_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": content})


async def _respond_throttled(send: Send, retry_after: int) -> None:
    """GitLab's Rack::Attack answer (``lib/gitlab/rack_attack.rb``): ``text/plain`` "Retry
    later" with the ``RateLimit-*`` headers of ``throttled_response_headers`` and
    ``Retry-After``."""
    reset = int(time.time()) + retry_after
    content = b"Retry later\n"
    headers = {
        "content-type": "text/plain",
        "content-length": str(len(content)),
        "ratelimit-name": "throttle_authenticated_api",
        "ratelimit-limit": "2000",
        "ratelimit-observed": "2001",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(reset),
        "ratelimit-resettime": formatdate(reset, usegmt=True),
        "retry-after": str(retry_after),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": content})


def _counters(counters: RuleCounters) -> dict[str, Any]:
    data = asdict(counters)
    data["errors"] = {str(status): n for status, n in counters.errors.items()}
    return data


def _seconds(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a number of seconds, at least 0.")
    return float(value)
