"""Call accounting on a real FastAPI app: per token label, per route template, per status."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException

from gitlab_sandbox.accounting import AccountingMiddleware, CallAccounting
from gitlab_sandbox.faults import FaultInjector, FaultMiddleware, FaultRule

TOKENS = {"glpat-bot": "pat:12 (bot)", "glpat-human": "pat:3 (alice)"}


async def token_label(raw: str) -> str | None:
    return TOKENS.get(raw)


def build_app(accounting: CallAccounting, injector: FaultInjector) -> FastAPI:
    app = FastAPI()
    router = APIRouter(prefix="/api/v4")

    @router.get("/projects/{project_id}/merge_requests/{iid}")
    async def merge_request(project_id: int, iid: int) -> dict[str, int]:
        if iid == 404:
            raise HTTPException(404, "404 Not found")
        return {"iid": iid}

    @router.put("/projects/{project_id}/merge_requests/{iid}/merge")
    async def merge(project_id: int, iid: int) -> dict[str, int]:
        return {"iid": iid}

    @app.get("/-/sandbox/stats")
    async def stats() -> dict[str, object]:
        return accounting.snapshot()

    git = FastAPI()

    @git.get("/{path:path}.git/info/refs")
    async def refs(path: str) -> dict[str, str]:
        return {"path": path}

    app.include_router(router)
    extra = APIRouter()

    @extra.get("/projects/{project_id}/repository/branches")
    async def branches(project_id: int) -> list[str]:
        return ["main"]

    app.include_router(extra, prefix="/api/v4")
    app.mount("/git", git)
    app.add_middleware(FaultMiddleware, injector=injector)
    app.add_middleware(AccountingMiddleware, accounting=accounting, token_label=token_label)
    return app


@pytest.fixture
def accounting() -> CallAccounting:
    return CallAccounting()


@pytest.fixture
def injector() -> FaultInjector:
    return FaultInjector()


@pytest.fixture
async def client(
    accounting: CallAccounting, injector: FaultInjector
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(accounting, injector))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def test_counts_per_token_endpoint_and_status(
    client: httpx.AsyncClient, accounting: CallAccounting
) -> None:
    bot = {"PRIVATE-TOKEN": "glpat-bot"}
    await client.get("/api/v4/projects/1/merge_requests/5", headers=bot)
    await client.get("/api/v4/projects/2/merge_requests/6", headers=bot)
    await client.put(
        "/api/v4/projects/1/merge_requests/5/merge",
        headers={"Authorization": "Bearer glpat-human"},
    )
    await client.get("/api/v4/projects/1/merge_requests/404", headers=bot)
    await client.get("/api/v4/projects/1/merge_requests/1", headers={"PRIVATE-TOKEN": "nope"})
    await client.get("/api/v4/projects/1/merge_requests/1")
    await client.get("/api/v4/nowhere")
    await client.get("/api/v4/projects/8/repository/branches", headers=bot)
    snapshot = accounting.snapshot()
    assert snapshot["total"] == 8
    assert snapshot["by_token"] == {
        "pat:12 (bot)": 4,
        "pat:3 (alice)": 1,
        "unknown token": 1,
        "anonymous": 2,
    }
    mr = "GET /api/v4/projects/{project_id}/merge_requests/{iid}"
    assert snapshot["by_endpoint"][mr] == 5
    assert (
        snapshot["by_endpoint"]["PUT /api/v4/projects/{project_id}/merge_requests/{iid}/merge"] == 1
    )
    assert snapshot["by_endpoint"]["GET (unmatched)"] == 1
    assert snapshot["by_endpoint"]["GET /api/v4/projects/{project_id}/repository/branches"] == 1
    assert snapshot["by_token_endpoint"]["pat:12 (bot)"][mr] == 3
    assert snapshot["by_status"] == {"200": 6, "404": 2}
    assert "glpat-bot" not in repr(snapshot)


async def test_mounted_apps_and_basic_auth_for_git(
    client: httpx.AsyncClient, accounting: CallAccounting, injector: FaultInjector
) -> None:
    basic = base64.b64encode(b"oauth2:glpat-bot").decode()
    response = await client.get(
        "/git/acme/shop.git/info/refs", headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 200
    snapshot = accounting.snapshot()
    assert snapshot["by_endpoint"] == {"GET /git/{path}.git/info/refs": 1}
    assert snapshot["by_token"] == {"pat:12 (bot)": 1}
    injector.set_rules([FaultRule(path="info/refs", error_rate=1.0, statuses=(503,))])
    faulted = await client.get("/git/group/sub/other.git/info/refs")
    assert faulted.status_code == 503
    assert accounting.snapshot()["by_endpoint"] == {"GET /git/{path}.git/info/refs": 2}


async def test_admin_calls_are_not_counted_and_reset_clears(
    client: httpx.AsyncClient, accounting: CallAccounting
) -> None:
    await client.get("/api/v4/projects/1/merge_requests/5")
    stats = (await client.get("/-/sandbox/stats")).json()
    assert stats["total"] == 1
    accounting.reset()
    assert accounting.snapshot()["total"] == 0


async def test_faulted_calls_still_count_with_their_template(
    client: httpx.AsyncClient, accounting: CallAccounting, injector: FaultInjector
) -> None:
    injector.set_rules([FaultRule(path="/merge$", error_rate=1.0, statuses=(502,))])
    merge = "/api/v4/projects/{}/merge_requests/5/merge"
    first = await client.put(merge.format(1), headers={"PRIVATE-TOKEN": "glpat-bot"})
    injector.set_rules([])
    routed = await client.put(merge.format(2), headers={"PRIVATE-TOKEN": "glpat-bot"})
    injector.set_rules([FaultRule(path="/merge$", error_rate=1.0, statuses=(502,))])
    faulted = await client.put(merge.format(3), headers={"PRIVATE-TOKEN": "glpat-bot"})
    assert [first.status_code, routed.status_code, faulted.status_code] == [502, 200, 502]
    snapshot = accounting.snapshot()
    assert snapshot["by_endpoint"] == {
        "PUT (unmatched)": 1,  # before any call of that endpoint got through
        "PUT /api/v4/projects/{project_id}/merge_requests/{iid}/merge": 2,
    }
    assert snapshot["by_status"] == {"200": 1, "502": 2}
    assert snapshot["by_token"] == {"pat:12 (bot)": 3}
