"""Security headers, the Host allow-list, and what protects /metrics and /docs (issue 13, 12)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from merge_assist.kit.http_security import DASHBOARD_CSP, allowed_hosts, host_name
from merge_assist.kit.settings import Settings
from merge_assist.server.app import create_app

MakeApp = Callable[..., FastAPI]


@pytest.fixture
def make_app(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> MakeApp:
    """The whole app with a built dashboard and ``settings`` changed by ``overrides``."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<script type="module" src="/assets/app.js"></script>')
    (dist / "assets" / "app.js").write_text("console.log(1)")

    def make(**overrides: Any) -> FastAPI:
        changed = settings.model_copy(update={"web_dist_dir": dist, **overrides})
        return create_app(changed, engine=engine)

    return make


@pytest.fixture
async def open_client() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    opened: list[httpx.AsyncClient] = []

    def make(app: FastAPI, base_url: str = "http://127.0.0.1:8080") -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


def _assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/health"),
        ("GET", "/"),
        ("GET", "/queue/12"),
        ("GET", "/assets/app.js"),
        ("GET", "/api/auth/me"),  # a 401
        ("GET", "/api/nothing-here"),  # a 404
        ("POST", "/api/auth/login"),  # a 422
        ("GET", "/metrics"),
    ],
)
async def test_every_response_carries_the_security_headers(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient], method: str, path: str
) -> None:
    response = await open_client(make_app()).request(method, path)
    _assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # http: no HSTS


async def test_the_dashboard_policy_allows_only_its_own_scripts_and_socket(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    response = await open_client(make_app()).get("/")
    csp = response.headers["content-security-policy"]
    assert csp == DASHBOARD_CSP
    assert "script-src 'self';" in csp  # no inline scripts, no eval
    assert "connect-src 'self'" in csp  # the live WebSocket on the same origin
    assert "style-src 'self' 'unsafe-inline'" in csp  # React's style attributes


async def test_hsts_only_when_the_public_url_is_https(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(public_url="https://merge.example.com")
    response = await open_client(app, "https://merge.example.com").get("/api/health")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


async def test_api_docs_get_their_own_policy(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    response = await open_client(make_app()).get("/docs")
    assert response.status_code == 200
    assert "https://cdn.jsdelivr.net" in response.headers["content-security-policy"]
    _assert_security_headers(response)


@pytest.mark.parametrize(
    "host", ["rebind.attacker.example", "rebind.attacker.example:8080", "127.0.0.1.nip.io"]
)
async def test_a_foreign_host_header_is_refused_with_a_sentence(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient], host: str
) -> None:
    # DNS rebinding: a page on the attacker's name, re-pointed at 127.0.0.1, sends its own Host.
    app = make_app(standalone=True, allowed_hosts="")
    response = await open_client(app).get("/api/health", headers={"Host": host})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bad_request"
    assert "does not answer to the host name" in body["detail"]
    assert "MERGE_ASSIST_ALLOWED_HOSTS" in body["detail"]
    _assert_security_headers(response)


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "merge.example.com"]
)
async def test_loopback_and_the_public_host_are_answered(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient], host: str
) -> None:
    app = make_app(public_url="https://merge.example.com", allowed_hosts="")
    response = await open_client(app).get("/api/health", headers={"Host": host})
    assert response.status_code == 200, response.text


async def test_extra_allowed_hosts_and_the_wildcard(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    listed = make_app(allowed_hosts="merge.internal, other.internal")
    ok = await open_client(listed).get("/api/health", headers={"Host": "other.internal:80"})
    assert ok.status_code == 200
    anything = make_app(allowed_hosts="*")
    ok = await open_client(anything).get("/api/health", headers={"Host": "whatever.example"})
    assert ok.status_code == 200


async def test_a_foreign_host_cannot_open_the_live_socket(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    app = make_app(allowed_hosts="")
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/api/updates",
        "raw_path": b"/api/updates",
        "query_string": b"",
        "headers": [(b"host", b"rebind.attacker.example")],
        "scheme": "ws",
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    assert [message["type"] for message in sent] == ["websocket.close"]


def test_allowed_hosts_are_derived_from_the_public_url_and_loopback(settings: Settings) -> None:
    derived = allowed_hosts(
        settings.model_copy(
            update={"public_url": "https://Merge.Example.com:8443/", "allowed_hosts": ""}
        )
    )
    assert derived == frozenset({"merge.example.com", "localhost", "127.0.0.1", "::1"})
    bound = allowed_hosts(settings.model_copy(update={"host": "10.1.2.3", "allowed_hosts": ""}))
    assert bound is not None
    assert "10.1.2.3" in bound
    assert allowed_hosts(settings.model_copy(update={"allowed_hosts": " * "})) is None


@pytest.mark.parametrize(
    ("header", "name"),
    [("a.example:80", "a.example"), ("[::1]:8080", "::1"), ("::1", "::1"), ("A.B", "a.b")],
)
def test_host_name_drops_the_port(header: str, name: str) -> None:
    assert host_name(header) == name


async def test_metrics_behind_a_token(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    client = open_client(make_app(metrics_token=SecretStr("scrape-secret-0123456789")))
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert "metrics token" in anonymous.json()["detail"]
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = await client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}
    )
    assert right.status_code == 200
    assert "merge_assist_http_requests_total" in right.text


async def test_metrics_and_api_docs_can_be_turned_off(
    make_app: MakeApp, open_client: Callable[..., httpx.AsyncClient]
) -> None:
    client = open_client(make_app(metrics_enabled=False, api_docs_enabled=False))
    metrics = await client.get("/metrics")
    assert metrics.status_code == 404
    assert "turned off" in metrics.json()["detail"]
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "swagger" not in response.text.lower()
