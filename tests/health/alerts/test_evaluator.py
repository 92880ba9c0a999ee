"""The evaluator over the database (GitLab not configured): stuck MRs and lapsed leases, one
pass per interval however many watchers, the hourly budget, a failing channel, the watcher."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.health.alerts.evaluator import alerts_duty, evaluate_once
from merge_assist.health.alerts.models import AlertDelivery, AlertSettingsRow
from merge_assist.kit.bus import InProcessBus
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.server.app import create_resources
from merge_assist.workers import leases
from merge_assist.workers.watcher import Watcher
from tests.conftest import MakeAccount
from tests.health.alerts.receivers import WebhookReceiver, webhook_receiver
from tests.merging.api.queue_rows import add_mr
from tests.workers.factories import make_project

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as received:
        yield received


async def webhook_on(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: WebhookReceiver, **more: object
) -> None:
    body = {"webhook_enabled": True, "webhook_url": receiver.url, **more}
    saved = await client.put("/api/health/alerts/settings", json=body, headers=admin)
    assert saved.status_code == 200, saved.text


async def test_stuck_mrs_and_a_lapsed_lease_within_the_hourly_budget(
    client: httpx.AsyncClient,
    app: object,
    make_account: MakeAccount,
    sessions: Sessions,
    receiver: WebhookReceiver,
) -> None:
    admin = await make_account("ada", "admin")
    await webhook_on(client, admin, receiver, rate_limit_per_hour=2, stuck_after_minutes=30)
    project = await make_project(sessions)
    now = utcnow()
    for iid in (1, 2, 3):
        await add_mr(sessions, project.id, iid, recognised_at=now - timedelta(minutes=45))
    await add_mr(sessions, project.id, 4, recognised_at=now - timedelta(minutes=5))
    async with unit_of_work(sessions) as session:
        await leases.acquire(
            session, project.id, "worker-gone", now=now - timedelta(minutes=10), seconds=30
        )
    res: AppResources = app.state.resources  # type: ignore[attr-defined]

    outcome = await evaluate_once(res, now)
    assert sorted(outcome.opened) == [
        f"lease_lapsed:{project.id}",
        f"mr_stuck:{project.id}:1",
        f"mr_stuck:{project.id}:2",
        f"mr_stuck:{project.id}:3",
    ]
    assert [d.status.value for d in outcome.deliveries] == [
        "sent",
        "sent",
        "rate_limited",
        "rate_limited",
    ]
    assert len(receiver.posts) == 2
    listed = (await client.get("/api/health/alerts", headers=admin)).json()
    assert listed["open"] == 4
    statuses = sorted(d["status"] for i in listed["incidents"] for d in i["deliveries"])
    assert statuses == ["rate_limited", "rate_limited", "sent", "sent"]


async def test_one_pass_per_interval_however_many_watchers(app: object, sessions: Sessions) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    now = utcnow()
    runs = await asyncio.gather(*(alerts_duty(res, now) for _ in range(4)))
    assert sum(run is not None for run in runs) == 1
    assert await alerts_duty(res, now + timedelta(seconds=59)) is None
    assert await alerts_duty(res, now + timedelta(seconds=60)) is not None


async def test_a_failing_channel_is_recorded_with_its_reason_and_no_secret(
    client: httpx.AsyncClient,
    app: object,
    make_account: MakeAccount,
    sessions: Sessions,
    receiver: WebhookReceiver,
) -> None:
    admin = await make_account("ada", "admin")
    await webhook_on(client, admin, receiver)
    receiver.answer = 500
    tested = (await client.post("/api/health/alerts/test", headers=admin)).json()
    [delivery] = tested["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["error"] == "The webhook answered HTTP 500."
    assert "secret-part" not in str(tested)
    async with sessions() as session:
        stored = list(await session.scalars(select(AlertDelivery)))
    assert [(row.kind, row.status) for row in stored] == [("test", "failed")]


async def test_bad_settings_are_refused_with_a_sentence(
    client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    put = "/api/health/alerts/settings"
    no_url = await client.put(put, json={"webhook_enabled": True}, headers=admin)
    assert no_url.status_code == 422
    assert "incoming webhook's URL" in no_url.json()["detail"]
    no_host = await client.put(put, json={"email_enabled": True}, headers=admin)
    assert no_host.status_code == 422
    assert "SMTP host" in no_host.json()["detail"]
    bad_url = await client.put(put, json={"webhook_url": "ftp://x/secret"}, headers=admin)
    assert bad_url.status_code == 422
    assert "secret" not in bad_url.text
    bad_to = await client.put(put, json={"email_to": ["not an address"]}, headers=admin)
    assert bad_to.status_code == 422
    many = [f"{'x' * 200}{i}@example.com" for i in range(20)]
    too_long = await client.put(put, json={"email_to": many}, headers=admin)
    assert too_long.status_code == 422
    assert "at most 2048 characters" in too_long.json()["detail"]


async def test_the_watcher_runs_the_evaluator_as_its_duty(
    settings: Settings, engine: object, sessions: Sessions, receiver: WebhookReceiver
) -> None:
    res = create_resources(settings, engine)  # type: ignore[arg-type]
    project = await make_project(sessions)
    await add_mr(sessions, project.id, 9, recognised_at=utcnow() - timedelta(hours=5))
    ran = []

    async def duty(res: AppResources, now: object) -> None:
        ran.append(await alerts_duty(res, now))  # type: ignore[arg-type]

    watcher = Watcher(res, "watcher-alerts", bus=InProcessBus(), duties=(duty,))
    await watcher.tick()
    await watcher.duties_settled()
    assert len(ran) == 1
    assert ran[0] is not None
    assert ran[0].opened == (f"mr_stuck:{project.id}:9",)


async def test_control_characters_are_refused_before_the_database(
    client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    admin = await make_account("ada", "admin")
    put = "/api/health/alerts/settings"
    for body in ({"smtp_username": "a\x00b"}, {"email_to": ["a@b.c\r\nBcc: x@y.z"]}):
        refused = await client.put(put, json=body, headers=admin)
        assert refused.status_code == 422
        assert "control characters" in refused.json()["detail"]


async def test_a_secret_that_no_longer_opens_is_said_and_does_not_stop_the_pass(
    client: httpx.AsyncClient,
    app: object,
    make_account: MakeAccount,
    sessions: Sessions,
    receiver: WebhookReceiver,
) -> None:
    admin = await make_account("ada", "admin")
    await webhook_on(client, admin, receiver, smtp_password="smtp-password")
    async with unit_of_work(sessions) as session:
        row = await session.get(AlertSettingsRow, 1)
        assert row is not None
        row.webhook_url_encrypted = row.smtp_password_encrypted  # sealed for another field
    refused = await client.post("/api/health/alerts/test", headers=admin)
    assert refused.status_code == 422
    assert "webhook URL cannot be decrypted" in refused.json()["detail"]
    project = await make_project(sessions)
    await add_mr(sessions, project.id, 1, recognised_at=utcnow() - timedelta(hours=3))
    outcome = await evaluate_once(app.state.resources, utcnow())  # type: ignore[attr-defined]
    assert outcome.opened == (f"mr_stuck:{project.id}:1",)
    assert outcome.deliveries == ()
    assert receiver.posts == []
