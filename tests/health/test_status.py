from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.ingest.models import InboxEvent
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.merging.models import MergeRequestRecord, QueueLogEntry
from merge_assist.workers import heartbeats, leases
from tests.conftest import MakeAccount
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
    assert [e["message"] for e in body["last_errors"]] == ["the pipeline of !3 could not start"]
