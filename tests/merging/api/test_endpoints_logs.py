"""``GET /api/logs`` (filters, tail, who may read) and ``GET /api/projects/{id}/batches``."""

from __future__ import annotations

import httpx

from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import Sessions, add, add_project, batch, grant, log


async def _lines(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list[str]:
    response = await client.get("/api/logs", params=params, headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [line["message"] for line in response.json()["items"]]


async def test_log_filters_and_tail(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    project = await add_project(sessions)
    other = await add_project(sessions, "acme/tools")
    await add(
        sessions,
        log(project, "debug", "polling GitLab"),
        log(project, "info", "!1 recognised", iid=1),
        log(project, "warning", "Pipeline of !1 is SLOW", iid=1),
        log(project, "error", "GitLab answered 502"),
        log(other, "error", "tools: 100% broken_thing"),
        log(None, "info", "worker started"),
    )

    assert await _lines(client, admin, project_id=project) == [
        "polling GitLab",
        "!1 recognised",
        "Pipeline of !1 is SLOW",
        "GitLab answered 502",
    ]
    assert await _lines(client, admin, project_id=project, level="warning") == [
        "Pipeline of !1 is SLOW",
        "GitLab answered 502",
    ]
    assert await _lines(client, admin, project_id=project, q="pipeline of !1 is slow") == [
        "Pipeline of !1 is SLOW"
    ]
    assert await _lines(client, admin, q="100%") == ["tools: 100% broken_thing"]
    assert await _lines(client, admin, q="_") == ["tools: 100% broken_thing"]
    assert len(await _lines(client, admin)) == 6  # an admin may read every line
    assert await _lines(client, admin, project_id=project, limit=2) == [
        "Pipeline of !1 is SLOW",
        "GitLab answered 502",
    ]

    everything = (
        await client.get("/api/logs", params={"project_id": project}, headers=admin)
    ).json()
    second_id = everything["items"][1]["id"]
    assert await _lines(client, admin, project_id=project, after_id=second_id) == [
        "Pipeline of !1 is SLOW",
        "GitLab answered 502",
    ]
    assert await _lines(client, admin, project_id=project, after_id=second_id, limit=1) == [
        "Pipeline of !1 is SLOW"
    ]
    last_id = everything["items"][-1]["id"]
    assert await _lines(client, admin, project_id=project, after_id=last_id) == []
    await add(sessions, log(project, "info", "!1 merged", iid=1))
    assert await _lines(client, admin, project_id=project, after_id=last_id) == ["!1 merged"]
    line = everything["items"][1]
    assert (line["level"], line["iid"], line["project_id"]) == ("info", 1, project)


async def test_who_may_read_logs(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    owner = await make_account("otto", "project_owner")
    manager = await make_account("pat", "priority_manager")
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    hidden = await add_project(sessions, "acme/old", active=False)
    await add(sessions, log(project, "info", "hello"))

    for headers in (owner, manager, viewer):
        refused = await client.get("/api/logs", params={"project_id": project}, headers=headers)
        assert refused.status_code == 403
        assert "logs" in refused.json()["detail"]
        unscoped = await client.get("/api/logs", headers=headers)
        assert unscoped.status_code == 422
        assert "project_id is required" in unscoped.json()["detail"]
    await grant(sessions, project, "otto", can_manage=True)
    await grant(sessions, project, "pat", can_manage=True)  # manage without the owner role
    assert await _lines(client, owner, project_id=project) == ["hello"]
    still = await client.get("/api/logs", params={"project_id": project}, headers=manager)
    assert still.status_code == 403
    missing = await client.get("/api/logs", params={"project_id": hidden}, headers=owner)
    assert missing.status_code == 404
    for params in ({"level": "loud"}, {"limit": 0}, {"after_id": -1}, {"q": "x" * 201}):
        invalid = await client.get(
            "/api/logs", params={"project_id": project, **params}, headers=owner
        )
        assert invalid.status_code == 422, params


async def test_batches_newest_first_with_pages(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    other = await add_project(sessions, "acme/tools")
    await add(
        sessions,
        *(batch(project, attempt) for attempt in range(1, 6)),
        batch(other, 1),
        batch(project, 6, status="failed", culprit_iids=[2], landed_iids=[1], probe=True),
    )
    url = f"/api/projects/{project}/batches"

    first = await client.get(url, params={"limit": 4}, headers=viewer)
    assert first.status_code == 200, first.text
    items = first.json()["items"]
    assert [item["attempt_id"] for item in items] == [6, 5, 4, 3]
    assert (items[0]["status"], items[0]["culprit_iids"], items[0]["probe"]) == (
        "failed",
        [2],
        True,
    )
    rest = await client.get(url, params={"limit": 4, "before_id": items[-1]["id"]}, headers=viewer)
    assert [item["attempt_id"] for item in rest.json()["items"]] == [2, 1]
    assert all(item["project_id"] == project for item in rest.json()["items"])
    assert (await client.get("/api/projects/999/batches", headers=viewer)).status_code == 404
    assert (await client.get(url, params={"limit": 501}, headers=viewer)).status_code == 422
