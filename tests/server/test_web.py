from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from merge_assist.kit.settings import Environment, Settings, default_web_dist_dir
from merge_assist.server.app import create_app
from merge_assist.server.web import is_dashboard_address, is_server_path

INDEX = '<!doctype html><html><body><div id="root"></div></body></html>'
BUNDLE = "console.log('dashboard');"


def make_app(tmp_path: Path, dist: Path) -> FastAPI:
    settings = Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'web.sqlite3'}",
        secret_key="web-test-key-long-enough-for-32-bytes",  # type: ignore[arg-type]
        web_dist_dir=dist,
        allowed_hosts="testserver",
        _env_file=None,  # type: ignore[call-arg]
    )
    return create_app(settings)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A small build: index, one hashed bundle, one unhashed file, and a secret beside it."""
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX, encoding="utf-8")
    (folder / "assets" / "index-3f9a1c.js").write_text(BUNDLE, encoding="utf-8")
    (folder / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    return folder


@pytest.fixture
async def web(tmp_path: Path, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(tmp_path, dist))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_root_serves_the_page_revalidated(web: httpx.AsyncClient) -> None:
    response = await web.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("address", ["/queue", "/vault/files/12", "/login", "/admin/users/"])
async def test_dashboard_addresses_fall_back_to_the_page(
    web: httpx.AsyncClient, address: str
) -> None:
    response = await web.get(address)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


async def test_hashed_bundle_is_cached_for_good(web: httpx.AsyncClient) -> None:
    response = await web.get("/assets/index-3f9a1c.js")
    assert response.status_code == 200
    assert response.text == BUNDLE
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_unhashed_file_is_revalidated(web: httpx.AsyncClient) -> None:
    response = await web.get("/favicon.svg")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


async def test_unchanged_bundle_answers_not_modified(web: httpx.AsyncClient) -> None:
    first = await web.get("/assets/index-3f9a1c.js")
    again = await web.get(
        "/assets/index-3f9a1c.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("address", ["/assets/index-old.js", "/robots.txt", "/logo.png"])
async def test_missing_files_are_404_not_the_page(web: httpx.AsyncClient, address: str) -> None:
    response = await web.get(address)
    assert response.status_code == 404
    assert INDEX not in response.text


@pytest.mark.parametrize(
    ("method", "address"),
    [
        ("GET", "/api/nope"),
        ("POST", "/api/no-such-action"),
        ("GET", "/api"),
        ("GET", "/webhook/gitlab"),
        ("POST", "/webhook/unknown"),  # POST /webhook/gitlab is the listener
        ("GET", "/metrics/extra"),
    ],
)
async def test_server_paths_never_get_the_page(
    web: httpx.AsyncClient, method: str, address: str
) -> None:
    response = await web.request(method, address)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "http_error"}


async def test_api_routes_win_over_the_dashboard(web: httpx.AsyncClient) -> None:
    assert (await web.get("/api/health")).json() == {"status": "ok"}
    metrics = await web.get("/metrics")
    assert metrics.status_code == 200
    assert "merge_assist_http_requests_total" in metrics.text


async def test_other_methods_on_dashboard_addresses_are_refused(web: httpx.AsyncClient) -> None:
    response = await web.post("/vault", json={})
    assert response.status_code == 405
    assert response.json()["code"] == "http_error"


async def test_head_has_headers_and_no_body(web: httpx.AsyncClient) -> None:
    response = await web.head("/queue")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"
    assert response.content == b""


@pytest.mark.parametrize("address", ["/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt"])
async def test_files_outside_the_build_are_not_served(web: httpx.AsyncClient, address: str) -> None:
    response = await web.get(address)
    assert response.status_code == 404
    assert "not for the web" not in response.text


async def test_missing_build_shows_how_to_build_it(tmp_path: Path) -> None:
    app = make_app(tmp_path, tmp_path / "nowhere" / "dist")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for address in ("/", "/vault"):
            response = await client.get(address)
            assert response.status_code == 503
            assert "The dashboard is not built: run <code>scripts/install</code>" in response.text
        assert (await client.get("/api/health")).status_code == 200
        assert (await client.get("/api/nope")).status_code == 404


async def test_build_made_after_start_is_served(tmp_path: Path) -> None:
    folder = tmp_path / "late" / "dist"
    app = make_app(tmp_path, folder)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/")).status_code == 503
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(INDEX, encoding="utf-8")
        assert (await client.get("/queue")).text == INDEX


async def test_unknown_websocket_is_closed(tmp_path: Path, dist: Path) -> None:
    app = make_app(tmp_path, dist)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/api/ws/no-such-socket",
        "raw_path": b"/api/ws/no-such-socket",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "ws",
        "server": ("testserver", 80),
        "subprotocols": [],
    }
    await app(scope, receive, send)
    assert [message["type"] for message in sent] == ["websocket.close"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("api", True),
        ("/api/ws/updates", True),
        ("metrics", True),
        ("webhook/gitlab", True),
        ("apiary", False),
        ("vault/api", False),
        ("", False),
    ],
)
def test_server_paths(path: str, expected: bool) -> None:
    assert is_server_path(path) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".", True),
        ("queue", True),
        ("vault/files/12", True),
        ("assets/index-1.js", False),
        ("assets/chunk", False),
        ("favicon.ico", False),
        ("files/report.v2", False),
    ],
)
def test_dashboard_addresses(path: str, expected: bool) -> None:
    assert is_dashboard_address(path) is expected


def test_default_dist_is_the_checkouts_build() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert default_web_dist_dir() == repo / "web" / "dist"
