"""Call accounting for benchmarks: API calls per token, per endpoint template, per status.

Tokens are identified by a label the caller's resolver gives (e.g. ``"pat:12 (bot)"``); the raw
token is never stored. Endpoints are counted by their route template
(``GET /api/v4/projects/{id}/merge_requests``), read from the scope after routing.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gitlab_sandbox.faults import ADMIN_PREFIX

TokenLabel = Callable[[str], "str | Awaitable[str | None] | None"]
ANONYMOUS = "anonymous"
UNKNOWN_TOKEN = "unknown token"  # noqa: S105 - a label, not a secret
UNMATCHED = "(unmatched)"


class CallAccounting:
    """Thread-safe counters of API calls; ``snapshot()`` for ``/-/sandbox/stats``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_token: Counter[str] = Counter()
        self._by_endpoint: Counter[str] = Counter()
        self._by_token_endpoint: dict[str, Counter[str]] = {}
        self._by_status: Counter[int] = Counter()

    def record(self, token: str, method: str, template: str, status: int) -> None:
        """Count one call."""
        endpoint = f"{method} {template}"
        with self._lock:
            self._by_token[token] += 1
            self._by_endpoint[endpoint] += 1
            self._by_token_endpoint.setdefault(token, Counter())[endpoint] += 1
            self._by_status[status] += 1

    def snapshot(self) -> dict[str, Any]:
        """All counters, JSON-ready."""
        with self._lock:
            return {
                "total": sum(self._by_token.values()),
                "by_token": dict(self._by_token),
                "by_endpoint": dict(self._by_endpoint),
                "by_token_endpoint": {t: dict(c) for t, c in self._by_token_endpoint.items()},
                "by_status": {str(s): n for s, n in sorted(self._by_status.items())},
            }

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._by_token.clear()
            self._by_endpoint.clear()
            self._by_token_endpoint.clear()
            self._by_status.clear()


class AccountingMiddleware:
    """ASGI middleware that records every HTTP call outside ``/-/sandbox/``.

    Add it outermost (after the fault middleware) so calls answered by an injected fault count
    too; they are named after the templates of earlier routed calls (``(unmatched)`` until one
    call of that endpoint got through).
    """

    def __init__(self, app: ASGIApp, accounting: CallAccounting, token_label: TokenLabel) -> None:
        self.app = app
        self.accounting = accounting
        self.token_label = token_label
        self._templates = _TemplateIndex()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the call through, then count it."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        root_path: str = scope.get("root_path", "")
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            method = scope["method"]
            routed = endpoint_template(scope, root_path)
            if routed is not None:
                template = routed[0]
                self._templates.learn(method, *routed)
            else:
                template = self._templates.find(method, path) or UNMATCHED
            self.accounting.record(await self._token(scope), method, template, status)

    async def _token(self, scope: Scope) -> str:
        raw = raw_token(scope)
        if raw is None:
            return ANONYMOUS
        label = self.token_label(raw)
        if inspect.isawaitable(label):
            label = await label
        return label or UNKNOWN_TOKEN


def raw_token(scope: Scope) -> str | None:
    """The token a GitLab client sent: PRIVATE-TOKEN, Bearer, Basic (git), or query string."""
    headers: dict[str, str] = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
    }
    if headers.get("private-token"):
        return headers["private-token"]
    if headers.get("job-token"):
        return headers["job-token"]
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        password = decoded.partition(":")[2]
        return password or None
    query: dict[str, list[str]] = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    for name in ("private_token", "access_token"):
        if query.get(name):
            return query[name][0]
    return None


def endpoint_template(scope: Scope, original_root_path: str = "") -> tuple[str, str] | None:
    """The route template a routed call matched, prefixes included (``/x/{id}``), and the same
    path with its converters (``/x/{id:int}``) to recognise later calls; None when unrouted."""
    mounted = scope.get("root_path", "")[len(original_root_path) :]
    # FastAPI >= 0.120 keeps the fully prefixed template here; older versions set scope["route"].
    context = scope.get("fastapi", {}).get("effective_route_context")
    template, pattern = getattr(context, "path_format", None), getattr(context, "path", None)
    if isinstance(template, str) and template and isinstance(pattern, str):
        return mounted + template, mounted + pattern
    route = scope.get("route")
    template, pattern = getattr(route, "path_format", None), getattr(route, "path", None)
    if not isinstance(template, str) or not isinstance(pattern, str) or isinstance(route, Mount):
        return None
    prefix = mounted + _literal_prefix(
        route, scope.get("path", "")[len(scope.get("root_path", "")) :]
    )
    return prefix + template, prefix + pattern


def _literal_prefix(route: Any, path: str) -> str:
    """The part of ``path`` before what the route matches (an include_router prefix)."""
    regex = getattr(route, "path_regex", None)
    if regex is None or regex.match(path):
        return ""
    for index, char in enumerate(path):
        if char == "/" and index > 0 and regex.match(path[index:]):
            return path[:index]
    return ""


class _TemplateIndex:
    """Templates seen on routed calls, to name calls a fault answered before routing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], re.Pattern[str]] = {}

    def learn(self, method: str, template: str, pattern: str) -> None:
        key = (method, template)
        if key not in self._known:
            regex, _, _ = compile_path(pattern)
            with self._lock:
                self._known[key] = regex

    def find(self, method: str, path: str) -> str | None:
        with self._lock:
            known = list(self._known.items())
        for (known_method, template), regex in known:
            if known_method == method and regex.match(path):
                return template
        return None
