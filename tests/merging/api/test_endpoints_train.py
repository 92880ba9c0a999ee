"""``GET /api/projects/{id}/train``: the stored train per target branch, read-only."""

from __future__ import annotations

import httpx

from merge_assist.kit.db import unit_of_work
from merge_assist.merging.engine.state import TargetQueueState
from merge_assist.merging.persistence.models import EngineStateRow
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import Sessions, add, add_mr, add_project, batch
from tests.merging.api.train_states import train_state

WEB = "https://gitlab.example.com/acme/webapp"


async def _store(sessions: Sessions, state: TargetQueueState, raw: str | None = None) -> None:
    async with unit_of_work(sessions) as session:
        session.add(
            EngineStateRow(
                project_id=state.project_id,
                target_branch=state.target_branch,
                state_json=raw if raw is not None else state.to_json(),
                version=3,
            )
        )


async def test_the_stored_train_with_titles_links_and_pipelines(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(
        sessions, branches=("main", "release"), web_url=WEB, strategy="train", train_depth=4
    )
    for iid in (1, 2, 3, 4, 6, 7):
        await add_mr(
            sessions, project, iid, state="in_batch", web_url=f"{WEB}/-/merge_requests/{iid}"
        )
    await add(
        sessions,
        batch(project, 10, status="testing", pipeline_id=501, pipeline_status="running"),
        batch(project, 10, target_branch="release", status="failed", pipeline_id=9),
    )
    await _store(sessions, train_state(project))

    response = await client.get(f"/api/projects/{project}/train", headers=viewer)

    assert response.status_code == 200, response.text
    main, release = response.json()["items"]
    assert (main["target_branch"], main["strategy"], main["depth"], main["train_depth"]) == (
        "main",
        "train",
        3,
        4,
    )
    assert [(car["position"], car["attempt_id"]) for car in main["cars"]] == [
        (1, 10),
        (2, 11),
        (3, 12),
    ]
    head = main["cars"][0]
    assert head["members"][0] == {
        "iid": 1,
        "title": "Change 1",
        "web_url": f"{WEB}/-/merge_requests/1",
    }
    assert head["pipeline"] == {
        "id": 501,
        "status": "running",
        "web_url": f"{WEB}/-/pipelines/501",
        "retries": 0,
    }
    assert main["cars"][1]["pipeline"]["retries"] == 1
    assert [m["iid"] for m in main["probes"][0]["members"]] == [6, 7]
    assert main["suspects"] == [{"members": [{"iid": 8, "title": None, "web_url": None}]}]
    # The train strategy: a configured branch without a stored state shows an empty train.
    assert release == {
        "target_branch": "release",
        "strategy": "train",
        "depth": 4,
        "train_depth": 4,
        "cars": [],
        "probes": [],
        "suspects": [],
        "cleared": [],
    }


async def test_no_train_is_an_empty_list_and_a_busy_one_still_shows(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions, branches=("main",))  # the single strategy
    url = f"/api/projects/{project}/train"

    assert (await client.get(url, headers=viewer)).json() == {"items": []}

    await _store(sessions, TargetQueueState.empty(project, "main"))
    assert (await client.get(url, headers=viewer)).json() == {"items": []}

    # Switched away from the train with cars in flight, on a branch no longer configured.
    await _store(sessions, train_state(project, "old-release"))
    items = (await client.get(url, headers=viewer)).json()["items"]
    assert [(item["target_branch"], item["strategy"], len(item["cars"])) for item in items] == [
        ("old-release", "single", 3)
    ]


async def test_an_unreadable_state_is_left_out_and_unknown_ids_refused(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions, branches=("main", "next"), strategy="train")
    await _store(sessions, TargetQueueState.empty(project, "main"), raw='{"not": "a state"}')
    url = f"/api/projects/{project}/train"

    response = await client.get(url, headers=viewer)

    assert response.status_code == 200, response.text
    assert [item["target_branch"] for item in response.json()["items"]] == ["next"]
    # Who may read it (everyone with a role, or a permission on the project): the RBAC matrix.
    assert (await client.get("/api/projects/999/train", headers=viewer)).status_code == 404
    assert (await client.get("/api/projects/0/train", headers=viewer)).status_code == 422
