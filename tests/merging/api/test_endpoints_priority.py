"""``POST /api/mrs/{id}/priority``: who may, which MRs, the cap, and what a change leaves."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from merge_assist.audit.models import AuditEntry
from merge_assist.kit.bus import InProcessBus, RedisStreamsBus
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, publish_wake, wake_topic
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.merging.persistence.models import MergeHistoryEntry, QueueLogEntry
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import Sessions, add_mr, add_project, at, grant, mr_row, user_id


async def _set(
    client: httpx.AsyncClient, mr_id: int, priority: object, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/api/mrs/{mr_id}/priority", json={"priority": priority}, headers=headers
    )


async def test_a_raise_lands_first_and_is_recorded(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount, app: FastAPI
) -> None:
    manager = await make_account("pat", "priority_manager")
    viewer = await make_account("vera", "viewer")
    project = await add_project(sessions)
    await add_mr(sessions, project, 1, state="ready", recognised_at=at(1))
    await add_mr(sessions, project, 2, state="waiting", recognised_at=at(2))
    late = await add_mr(sessions, project, 3, state="not_ready", recognised_at=at(3))
    last = await add_mr(sessions, project, 4, state="waiting", recognised_at=at(4))
    bus = InProcessBus()
    app.state.resources.bus = bus
    vera = hub_of(app.state.resources).connect(await user_id(sessions, "vera"))

    async with bus.subscribe(wake_topic(project), WAKE_GROUP, "test") as wakes:
        response = await _set(client, last, 7, manager)
        delivery = await wakes.next(5)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["iid"], body["priority"], body["position"]) == (4, 7, 1)
    assert (await mr_row(sessions, last)).priority == 7
    listing = await client.get(f"/api/projects/{project}/mrs", headers=viewer)
    assert [mr["iid"] for mr in listing.json()["items"]] == [4, 1, 2, 3]
    assert delivery is not None
    assert delivery.event.payload == {"project_id": project, "reason": "priority"}

    async with sessions() as session:
        audit = (await session.execute(select(AuditEntry))).scalars().all()
        entries = (await session.execute(select(MergeHistoryEntry))).scalars().all()
        lines = (await session.execute(select(QueueLogEntry))).scalars().all()
    (entry,) = [a for a in audit if a.action == "merge_request.priority.set"]
    assert (entry.actor_name, entry.target_type, entry.target_id) == (
        "pat",
        "merge_request",
        str(last),
    )
    assert (entry.details["old_priority"], entry.details["new_priority"]) == (0, 7)
    (recorded,) = entries
    assert (recorded.event, recorded.iids, recorded.project_id) == (
        "priority_changed",
        [4],
        project,
    )
    assert recorded.details == {"old_priority": 0, "new_priority": 7, "by": "pat"}
    (line,) = lines
    assert (line.level, line.iid) == ("info", 4)
    assert "from 0 to 7" in line.message

    events = [vera.queue.get_nowait() for _ in range(vera.queue.qsize())]
    assert any('"type": "mr.updated"' in text and '"priority": 7' in text for text in events)
    # The log line is for those who may read the project's log (GET /api/logs), not viewers.
    assert not any('"type": "log.appended"' in text for text in events)

    # lowering it again is a second, separately keyed change; the same value changes nothing
    assert (await _set(client, last, 0, manager)).json()["position"] == 3  # !3 is not in line
    assert (await _set(client, last, 0, manager)).status_code == 200
    assert (await _set(client, late, 3, manager)).json()["position"] is None
    async with sessions() as session:
        keys = (await session.execute(select(MergeHistoryEntry.record_key))).scalars().all()
    assert len(set(keys)) == 3


async def test_who_may_set_priorities(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    viewer = await make_account("vera", "viewer")
    member = await make_account("mia", "member")
    owner = await make_account("otto", "project_owner")
    admin = await make_account("ada", "admin")
    project = await add_project(sessions)
    other = await add_project(sessions, "acme/tools")
    mr = await add_mr(sessions, project, 1)
    elsewhere = await add_mr(sessions, other, 1)

    for headers in (viewer, member, owner):
        refused = await _set(client, mr, 5, headers)
        assert refused.status_code == 403
        assert "priority" in refused.json()["detail"]
    await grant(sessions, project, "mia", can_set_priority=True)
    assert (await _set(client, mr, 5, member)).status_code == 200
    assert (await _set(client, elsewhere, 5, member)).status_code == 403
    assert (await _set(client, elsewhere, 5, admin)).status_code == 200
    assert (await mr_row(sessions, mr)).priority == 5
    assert (await client.post(f"/api/mrs/{mr}/priority", json={"priority": 1})).status_code == 401
    hidden = await add_mr(sessions, await add_project(sessions, "acme/old", active=False), 1)
    manager = await make_account("pat", "priority_manager")
    invisible = await _set(client, hidden, 5, manager)
    assert invisible.status_code == 404
    assert invisible.json()["detail"] == f"There is no merge request with id {hidden}."


async def test_refusals_are_409_or_422_with_a_reason(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    project = await add_project(sessions, batch_size=2)
    first = await add_mr(sessions, project, 1, priority=3)
    second = await add_mr(sessions, project, 2, state="merging", priority=1)
    third = await add_mr(sessions, project, 3)
    merged = await add_mr(sessions, project, 4, state="merged")
    other_branch = await add_mr(sessions, project, 5, target_branch="release")

    capped = await _set(client, third, 4, admin)
    assert capped.status_code == 409
    assert "2 merge requests already carry a raised priority" in capped.json()["detail"]
    assert (await _set(client, first, 9, admin)).status_code == 200  # already raised: allowed
    assert (await _set(client, other_branch, 9, admin)).status_code == 200  # another queue
    done = await _set(client, merged, 4, admin)
    assert done.status_code == 409
    assert "merged already" in done.json()["detail"]
    busy = await _set(client, second, 0, admin)
    assert busy.status_code == 409
    assert "being merged" in busy.json()["detail"]
    for bad in (-1, 101, "high", None):
        invalid = await _set(client, first, bad, admin)
        assert invalid.status_code == 422, bad
        assert invalid.json()["detail"].startswith("Invalid request")
    assert (await _set(client, 9999, 1, admin)).status_code == 404
    assert (await mr_row(sessions, third)).priority == 0
    assert (await mr_row(sessions, first)).priority == 9


async def test_concurrent_raises_respect_the_cap(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    project = await add_project(sessions, batch_size=1)
    mrs = [await add_mr(sessions, project, iid) for iid in (1, 2, 3)]

    answers = await asyncio.gather(*(_set(client, mr, 5, admin) for mr in mrs))

    assert sorted(answer.status_code for answer in answers) == [200, 409, 409]
    priorities = [(await mr_row(sessions, mr)).priority for mr in mrs]
    assert sorted(priorities) == [0, 0, 5]


async def test_live_events_reach_only_those_who_see_the_project(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount, app: FastAPI
) -> None:
    admin = await make_account("ada", "admin")
    await make_account("rolf", "viewer")
    rolf = await user_id(sessions, "rolf")
    assert (await client.patch(f"/api/users/{rolf}", json={"roles": []}, headers=admin)).is_success
    project = await add_project(sessions)
    mr = await add_mr(sessions, project, 1)
    hub = hub_of(app.state.resources)
    outsider = hub.connect(rolf)
    insider = hub.connect(await user_id(sessions, "ada"))

    assert (await _set(client, mr, 2, admin)).status_code == 200

    assert outsider.queue.qsize() == 0
    assert insider.queue.qsize() == 2
    await grant(sessions, project, "rolf", can_set_priority=True)
    assert (await _set(client, mr, 1, admin)).status_code == 200
    assert outsider.queue.qsize() == 1  # mr.updated; the log line needs can_manage


async def test_log_lines_reach_only_those_who_may_read_the_log(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount, app: FastAPI
) -> None:
    """``log.appended`` follows ``GET /api/logs``: admin, or project_owner with can_manage."""
    admin = await make_account("ada", "admin")
    await make_account("owen", "project_owner")
    await make_account("olga", "project_owner")
    await make_account("vera", "viewer")
    await make_account("pia", "member")
    project = await add_project(sessions)
    mr = await add_mr(sessions, project, 1)
    await grant(sessions, project, "owen", can_manage=True)
    await grant(sessions, project, "olga", can_set_priority=True)
    await grant(sessions, project, "pia", can_manage=True)  # no project_owner role
    hub = hub_of(app.state.resources)
    sockets = {
        name: hub.connect(await user_id(sessions, name))
        for name in ("ada", "owen", "olga", "vera", "pia")
    }

    assert (await _set(client, mr, 3, admin)).status_code == 200

    logs_heard = {
        name: sum(
            '"type": "log.appended"' in socket.queue.get_nowait()
            for _ in range(socket.queue.qsize())
        )
        for name, socket in sockets.items()
    }
    assert logs_heard == {"ada": 1, "owen": 1, "olga": 0, "vera": 0, "pia": 0}


async def test_the_queue_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert paths["/api/mrs/{mr_id}/priority"]["post"]["tags"] == ["merge queue"]
    for path in ("/api/projects/{project_id}/mrs", "/api/logs", "/api/projects/{project_id}/stats"):
        assert "get" in paths[path]


@pytest.mark.redis
async def test_an_api_process_without_a_worker_wakes_the_owner_through_redis(
    client: httpx.AsyncClient,
    sessions: Sessions,
    make_account: MakeAccount,
    app: FastAPI,
    redis_url: str,
) -> None:
    """``merge-assist api`` has no bus until something needs one: the wake-up still goes out."""
    res = app.state.resources
    res.settings = res.settings.model_copy(update={"redis_url": redis_url})
    assert res.bus is None
    manager = await make_account("pat", "priority_manager")
    project = await add_project(sessions)
    mr = await add_mr(sessions, project, 1, state="waiting", recognised_at=at(1))
    worker_bus = RedisStreamsBus(redis_url)
    try:
        async with worker_bus.subscribe(wake_topic(project), WAKE_GROUP, "worker") as wakes:
            assert await publish_wake(bus_of(res), project, "priority")  # no bus yet: it is made
            direct = await wakes.next(5)
            response = await _set(client, mr, 3, manager)
            delivery = await wakes.next(5)
    finally:
        await worker_bus.close()
        await bus_of(res).close()
    assert response.status_code == 200, response.text
    for woken in (direct, delivery):
        assert woken is not None
        assert woken.event.payload == {"project_id": project, "reason": "priority"}
