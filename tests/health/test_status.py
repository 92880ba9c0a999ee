from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.merging.persistence.models import MergeRequestRecord, QueueLogEntry
from merge_assist.workers import heartbeats, leases
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import grant
from tests.workers.factories import make_project

Sessions = async_sessionmaker[AsyncSession]


async def test_status_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health/status")
    assert response.status_code == 401


async def test_status_shows_processes_leases_queues_inbox_and_errors(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    project = await make_project(sessions)
    now = utcnow()
    async with unit_of_work(sessions) as session:
        await heartbeats.beat(session, "worker-alive", "worker", now=now)
        await heartbeats.beat(session, "worker-gone", "worker", now=now - timedelta(hours=1))
        await leases.acquire(session, project.id, "worker-alive", now=now, seconds=30)
        for iid, (branch, state) in enumerate(
            [
                ("main", "ready"),
                ("main", "ready"),
                ("main", "merging"),
                ("release", "waiting"),
                ("main", "merged"),
            ],
            start=1,
        ):
            session.add(
                MergeRequestRecord(
                    project_id=project.id, iid=iid, target_branch=branch, queue_state=state
                )
            )
        session.add(
            InboxEvent(
                project_id=project.id, idempotency_key="k", event_kind="push", received_at=now
            )
        )
        session.add(
            QueueLogEntry(
                project_id=project.id,
                target_branch="main",
                level="error",
                message="the pipeline of !3 could not start",
            )
        )
        session.add(QueueLogEntry(project_id=project.id, level="info", message="merged !5"))
    headers = await make_account("vera", "viewer")

    response = await client.get("/api/health/status", headers=headers)

    assert response.status_code == 200
    body = response.json()
    alive = {w["worker_id"]: w["alive"] for w in body["workers"]}
    assert alive == {"worker-alive": True, "worker-gone": False}
    [lease] = body["leases"]
    assert (lease["project_id"], lease["owner"], lease["held"]) == (
        project.id,
        "worker-alive",
        True,
    )
    assert lease["project_path"] == project.path_with_namespace
    queues = {q["target_branch"]: (q["states"], q["total"]) for q in body["queues"]}
    assert queues == {"main": ({"ready": 2, "merging": 1}, 3), "release": ({"waiting": 1}, 1)}
    assert body["inbox"]["unprocessed"] == 1
    assert body["inbox"]["by_project"] == {str(project.id): 1}
    # Error lines are log lines: a viewer may not read the project's log, so none of them.
    assert body["last_errors"] == []
    admin = await make_account("ada", "admin")
    errors = (await client.get("/api/health/status", headers=admin)).json()["last_errors"]
    assert [e["message"] for e in errors] == ["the pipeline of !3 could not start"]


async def _two_projects_with_trouble(sessions: Sessions) -> tuple[int, int]:
    """Two projects, each leased, with a queued MR, an inbox event and an error line; plus an
    error line of no project."""
    now = utcnow()
    ids = [(await make_project(sessions)).id for _ in range(2)]
    async with unit_of_work(sessions) as session:
        for n, project_id in enumerate(ids):
            await leases.acquire(session, project_id, "worker-a", now=now, seconds=30)
            session.add(
                MergeRequestRecord(
                    project_id=project_id, iid=1, target_branch="main", queue_state="ready"
                )
            )
            session.add(
                InboxEvent(
                    project_id=project_id,
                    idempotency_key="k",
                    event_kind="push",
                    received_at=now - timedelta(minutes=n),
                )
            )
            session.add(QueueLogEntry(project_id=project_id, level="error", message=f"trouble {n}"))
        session.add(QueueLogEntry(project_id=None, level="error", message="engine trouble"))
    return ids[0], ids[1]


def _projects_in(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "leases": sorted(lease["project_id"] for lease in body["leases"]),
        "queues": sorted(queue["project_id"] for queue in body["queues"]),
        "inbox": sorted(int(p) for p in body["inbox"]["by_project"]),
        "errors": sorted(error["message"] for error in body["last_errors"]),
    }


async def test_status_shows_a_user_only_the_projects_they_may_see(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    """Same rule as ``GET /api/projects``: a user without a role sees the projects granted to
    them; an admin sees every project and the errors of none."""
    mine, theirs = await _two_projects_with_trouble(sessions)
    admin = await make_account("ada", "admin")
    member = await make_account("mia")
    outsider = await make_account("otto")
    for name in ("mia", "otto"):  # no global role: only granted projects are visible
        me = await client.get("/api/auth/me", headers={"mia": member, "otto": outsider}[name])
        dropped = await client.patch(
            f"/api/users/{me.json()['id']}", json={"roles": []}, headers=admin
        )
        assert dropped.is_success, dropped.text
    await grant(sessions, mine, "mia", can_set_priority=True)

    everything = (await client.get("/api/health/status", headers=admin)).json()
    assert _projects_in(everything) == {
        "leases": [mine, theirs],
        "queues": [mine, theirs],
        "inbox": [mine, theirs],
        "errors": ["engine trouble", "trouble 0", "trouble 1"],
    }
    assert everything["inbox"]["unprocessed"] == 2

    granted = await client.get("/api/health/status", headers=member)
    assert granted.status_code == 200
    body = granted.json()
    assert _projects_in(body) == {
        "leases": [mine],
        "queues": [mine],
        "inbox": [mine],
        "errors": [],  # may set priorities, not read the log
    }
    assert body["inbox"]["unprocessed"] == 1
    assert body["inbox"]["oldest_received_at"] is not None
    assert theirs not in {lease["project_id"] for lease in body["leases"]}
    listed = await client.get("/api/projects", headers=member)
    assert [p["id"] for p in listed.json()] == [mine]

    nothing = (await client.get("/api/health/status", headers=outsider)).json()
    assert _projects_in(nothing) == {"leases": [], "queues": [], "inbox": [], "errors": []}
    assert nothing["inbox"] == {"unprocessed": 0, "oldest_received_at": None, "by_project": {}}


async def test_error_lines_are_shown_only_to_those_who_may_read_the_projects_log(
    client: httpx.AsyncClient, sessions: Sessions, make_account: MakeAccount
) -> None:
    """The rule of ``GET /api/logs``: admin, or project_owner with can_manage on the project."""
    mine, theirs = await _two_projects_with_trouble(sessions)
    owner = await make_account("owen", "project_owner")
    viewer = await make_account("vera", "viewer")
    member = await make_account("mia", "member")
    await grant(sessions, mine, "owen", can_manage=True)
    await grant(sessions, theirs, "vera", can_set_priority=True)

    managing = (await client.get("/api/health/status", headers=owner)).json()
    assert _projects_in(managing)["errors"] == ["trouble 0"]
    assert _projects_in(managing)["queues"] == [mine, theirs]  # seeing is not reading logs
    for headers in (viewer, member):
        body = (await client.get("/api/health/status", headers=headers)).json()
        assert body["last_errors"] == []
        assert _projects_in(body)["queues"] == [mine, theirs]
    for headers in (owner, viewer):
        logs = await client.get("/api/logs", params={"project_id": theirs}, headers=headers)
        assert logs.status_code == 403
