"""``GET /api/projects/{id}/mrs`` and ``GET /api/mrs/{id}``: order, positions, filters, access."""

from __future__ import annotations

import httpx

from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import (
    Sessions,
    add,
    add_mr,
    add_project,
    at,
    grant,
    history,
    user_id,
)


async def _queue(sessions: Sessions) -> tuple[int, dict[int, int]]:
    """A project with MRs in every kind of state on two branches; returns (project, ids by iid)."""
    project = await add_project(sessions, branches=("main", "release"), batch_size=3)
    ids = {
        1: await add_mr(sessions, project, 1, state="waiting", recognised_at=at(10)),
        2: await add_mr(sessions, project, 2, state="ready", recognised_at=at(5)),
        3: await add_mr(sessions, project, 3, state="ready", recognised_at=at(30), priority=2),
        4: await add_mr(sessions, project, 4, state="not_ready", recognised_at=at(1)),
        5: await add_mr(sessions, project, 5, state="merged", merged_at=at(50)),
        6: await add_mr(sessions, project, 6, state="ready", target_branch="release"),
        7: await add_mr(sessions, project, 7, state="waiting", recognised_at=at(10)),
    }
    return project, ids


async def test_queue_order_positions_then_the_rest(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project, ids = await _queue(sessions)

    response = await client.get(f"/api/projects/{project}/mrs", headers=viewer)

    assert response.status_code == 200, response.text
    body = response.json()
    # priority first; then recognised earliest; iid breaks the tie between !1 and !7.
    order = [(mr["iid"], mr["position"]) for mr in body["items"]]
    assert order[:5] == [(3, 1), (2, 2), (6, 1), (1, 3), (7, 4)]
    assert {iid for iid, _ in order[5:]} == {4, 5}
    assert all(position is None for _, position in order[5:])
    assert body["total"] == 7
    assert body["target_branches"] == ["main", "release"]
    assert body["priority_cap"] == 3
    assert body["can_set_priority"] is False
    first = body["items"][0]
    assert (first["id"], first["project_id"], first["queue_state"]) == (ids[3], project, "ready")


async def test_filters_by_state_and_branch_and_pages(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    manager = await make_account("pat", "priority_manager")
    project, _ = await _queue(sessions)
    url = f"/api/projects/{project}/mrs"

    async def iids(**params: object) -> list[int]:
        response = await client.get(url, params=params, headers=manager)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        return [mr["iid"] for mr in response.json()["items"]]

    assert await iids(state="ready") == [3, 2, 6]
    assert await iids(state=["merged", "waiting"]) == [1, 7, 5]
    assert await iids(state="merged,not_ready", target_branch="main") in ([5, 4], [4, 5])
    assert await iids(target_branch="release") == [6]
    assert await iids(limit=2) == [3, 2]
    assert await iids(limit=2, offset=4) == [7, (await iids())[5]]
    everything = await client.get(url, headers=manager)
    assert everything.json()["can_set_priority"] is True
    # positions stay the places in line even when filtered
    ready = await client.get(url, params={"state": "ready"}, headers=manager)
    assert [mr["position"] for mr in ready.json()["items"]] == [1, 2, 1]


async def test_bad_filters_are_refused_with_a_sentence(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    url = f"/api/projects/{project}/mrs"

    unknown = await client.get(url, params={"state": "ready,sleeping"}, headers=viewer)
    assert unknown.status_code == 422
    assert "'sleeping'" in unknown.json()["detail"]
    assert "waiting" in unknown.json()["detail"]
    for params in ({"limit": 0}, {"offset": -1}, {"target_branch": "a\x00b"}):
        refused = await client.get(url, params=params, headers=viewer)
        assert refused.status_code == 422, params
        assert refused.json()["detail"].startswith("Invalid request")
    huge = await client.get(f"/api/projects/{2**40}/mrs", headers=viewer)
    assert huge.status_code == 422


async def test_invisible_projects_answer_404(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    admin = await make_account("ada", "admin")
    nobody = await make_account("nora", "member")
    hidden = await add_project(sessions, "acme/old", active=False)
    mr = await add_mr(sessions, hidden, 1)

    for url in (f"/api/projects/{hidden}/mrs", f"/api/mrs/{mr}", "/api/projects/999/mrs"):
        refused = await client.get(url, headers=viewer)
        assert refused.status_code == 404, url
        assert refused.json()["detail"].startswith("There is no")
    assert (await client.get(f"/api/projects/{hidden}/mrs", headers=admin)).status_code == 200
    assert (await client.get("/api/projects/1/mrs")).status_code == 401
    assert (await client.get(f"/api/mrs/{mr}", headers=nobody)).status_code == 404


async def test_a_user_without_a_role_sees_only_granted_projects(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    project = await add_project(sessions)
    headers = await make_account("rolf", "viewer")
    rolf = await user_id(sessions, "rolf")
    roles = await client.patch(f"/api/users/{rolf}", json={"roles": []}, headers=admin)
    assert roles.status_code == 200, roles.text
    assert roles.json()["roles"] == []
    url = f"/api/projects/{project}/mrs"

    assert (await client.get(url, headers=headers)).status_code == 404
    await grant(sessions, project, "rolf", can_set_priority=True)
    allowed = await client.get(url, headers=headers)
    assert allowed.status_code == 200
    assert allowed.json()["can_set_priority"] is True


async def test_one_mr_with_its_history(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project, ids = await _queue(sessions)
    await add(
        sessions,
        history(project, "recognised", [2], "recognised:2", created_at=at(5)),
        history(project, "struck", [2], "strike:2:a", details={"cause": "pipeline_failed"}),
        history(project, "batch_finished", [1, 2, 12], "batch:1", created_at=at(40)),
        history(project, "recognised", [12], "recognised:12", created_at=at(41)),
        history(project, "recognised", [2], "recognised:2:r", target_branch="release"),
    )

    response = await client.get(f"/api/mrs/{ids[2]}", headers=viewer)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["iid"], body["position"], body["queue_state"]) == (2, 2, "ready")
    assert [entry["event"] for entry in body["history"]] == [
        "recognised",
        "struck",
        "batch_finished",
    ]
    assert body["history"][1]["details"] == {"cause": "pipeline_failed"}
    merged = (await client.get(f"/api/mrs/{ids[5]}", headers=viewer)).json()
    assert (merged["position"], merged["history"]) == (None, [])
    missing = await client.get("/api/mrs/4242", headers=viewer)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "There is no merge request with id 4242."


async def test_queue_activity_puts_the_busiest_visible_project_first(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    quiet = await add_project(sessions, "demo/cam-programs")  # no MR at all
    busy = await add_project(sessions, "demo/widgets")
    done = await add_project(sessions, "demo/old")
    for iid, state in enumerate(["waiting", "ready", "in_batch", "merged"], start=1):
        await add_mr(sessions, busy, iid, state=state)
    await add_mr(sessions, done, 1, state="merged")
    hidden = await add_project(sessions, "demo/gone", active=False)
    await add_mr(sessions, hidden, 1, state="ready")

    response = await client.get("/api/queue/activity", headers=viewer)

    assert response.status_code == 200, response.text
    found = [(item["project_id"], item["queued"]) for item in response.json()]
    assert found[0] == (busy, 3)
    assert set(found[1:]) == {(done, 0), (quiet, 0)}
    assert found[1][0] == done  # it had a change; the quiet one never did
    assert hidden not in {project for project, _ in found}
