"""Security headers on every response, and the Host allow-list (DNS rebinding).

One pure ASGI middleware, outermost in the app (``server/app.py``), so every answer gets the
headers — the API's JSON, the dashboard's files, refusals by other middleware:

- ``Content-Security-Policy``: the dashboard's scripts, styles, images and fonts come from this
  origin only, no inline scripts, no ``eval``; it talks to this origin only (``connect-src
  'self'`` covers its WebSocket); it may not be framed (``frame-ancestors 'none'``). Inline
  *styles* stay allowed: React and the "not built" page set ``style`` attributes. The API
  documentation pages (``/docs``, ``/redoc``) load FastAPI's Swagger UI and ReDoc from
  ``cdn.jsdelivr.net`` with an inline start-up script, so they get their own, wider policy.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy:
  no-referrer``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` (one year, without ``includeSubDomains``: the product does not
  own its parent domain) only when the public URL is https.

Host allow-list: a request whose ``Host`` header is not one of the allowed names is refused with
400 and a sentence (a WebSocket is closed before it is accepted). A page on an attacker's domain
whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own domain as ``Host``, so a
server on loopback never answers it. What is allowed is decided by :func:`allowed_hosts`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from merge_assist.kit.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_HOST = "*"
WILDCARD_BIND = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, nothing is bound here
HSTS_SECONDS = 365 * 24 * 3600

DASHBOARD_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_CDN = "https://cdn.jsdelivr.net"
API_DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {_CDN}",
        f"style-src 'self' 'unsafe-inline' {_CDN} https://fonts.googleapis.com",
        "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
        "font-src 'self' https://fonts.gstatic.com",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
API_DOCS_PATHS = ("/docs", "/redoc")


@dataclass(frozen=True)
class HttpSecurity:
    """What the middleware enforces: the allowed Host names (None: any) and https."""

    allowed_hosts: frozenset[str] | None
    https: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpSecurity:
        """The policy of ``settings`` (see :func:`allowed_hosts`)."""
        https = settings.effective_public_url.lower().startswith("https://")
        return cls(allowed_hosts=allowed_hosts(settings), https=https)


def allowed_hosts(settings: Settings) -> frozenset[str] | None:
    """The Host names this server answers to; ``None`` when ``allowed_hosts`` is ``*``.

    Always: the public URL's host name and the loopback names (``localhost``, ``127.0.0.1``,
    ``::1``); the address the server listens on when it is a specific one; and the names
    listed in ``MERGE_ASSIST_ALLOWED_HOSTS`` (comma-separated). Ports are not compared.
    """
    extra = [name.strip().lower() for name in settings.allowed_hosts.split(",") if name.strip()]
    if ANY_HOST in extra:
        return None
    names = set(LOOPBACK_NAMES) | {_bare(name) for name in extra}
    public_host = urlsplit(settings.effective_public_url).hostname
    if public_host:
        names.add(public_host.lower())
    if settings.host.strip().lower() not in WILDCARD_BIND:
        names.add(_bare(settings.host))
    return frozenset(names)


def _bare(name: str) -> str:
    """A host name without brackets, in lower case (``[::1]`` → ``::1``)."""
    return name.strip().strip("[]").lower()


def host_name(header: str) -> str:
    """The name part of a ``Host`` header (``example.com:8080`` → ``example.com``)."""
    value = header.strip().lower()
    if value.startswith("["):  # [::1]:8080
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class SecurityMiddleware:
    """Refuses unknown Host headers and adds the security headers to every response."""

    def __init__(self, app: ASGIApp, policy: HttpSecurity) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = self._host_refusal(scope)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": refusal})
            else:
                await self._refuse(send, refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        headers = self._headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {bytes(key).lower() for key, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((key, value) for key, value in headers if key not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _host_refusal(self, scope: Scope) -> str | None:
        allowed = self.policy.allowed_hosts
        if allowed is None:
            return None
        header = _header(scope, b"host")
        if header is None:
            return "The request has no Host header; this server answers only requests that name it."
        if host_name(header) in allowed:
            return None
        shown = header[:100].encode("ascii", "replace").decode("ascii")
        return (
            f"This server does not answer to the host name {shown!r}: use its public address, "
            "or add the name to MERGE_ASSIST_ALLOWED_HOSTS."
        )

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        csp = API_DOCS_CSP if _is_docs(path) else DASHBOARD_CSP
        headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if self.policy.https:
            headers.append((b"strict-transport-security", f"max-age={HSTS_SECONDS}".encode()))
        return headers

    async def _refuse(self, send: Send, sentence: str) -> None:
        body = json.dumps({"detail": sentence, "code": "bad_request"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *self._headers("/"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _is_docs(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_DOCS_PATHS)
