"""Alerts end to end: an administrator configures the channels through the API, conditions
become true (a worker's heartbeat stops, the sandbox refuses the bot token), the evaluator runs,
and exactly one e-mail reaches the local SMTP server and one post the local webhook per incident
and per resolution; the audit log and the health API show them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.audit.models import AuditEntry
from merge_assist.auth.models import GitLabIdentity, User
from merge_assist.health.alerts.evaluator import alerts_duty, evaluate_once
from merge_assist.health.alerts.models import AlertSettingsRow
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.workers.models import WorkerHeartbeat
from tests.conftest import MakeAccount
from tests.health.alerts.receivers import (
    SmtpInbox,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)
from tests.sandbox_product import BOT_TOKEN_VARIABLE, sandbox_settings

SCENARIO: dict[str, Any] = {
    "users": [
        {"username": "root", "admin": True, "tokens": [{"name": "admin", "scopes": ["api"]}]},
        {"username": "marge-bot", "bot": True, "tokens": [{"name": "bot", "scopes": ["api"]}]},
        {
            "username": "expiring-bot",
            "bot": True,
            "tokens": [{"name": "bot", "scopes": ["api"], "expires_in_days": 5}],
        },
    ],
    "projects": [
        {
            "path": "acme/webapp",
            "owner": "root",
            "default_branch": "main",
            "members": {"marge-bot": "maintainer", "expiring-bot": "maintainer"},
            "files": {"README.md": "# webapp\n"},
        }
    ],
}
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO, seed=0) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    return sandbox_settings(
        database_url, tmp_path, sandbox, monkeypatch, public_url="http://merge-assist.example:8080"
    )


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    with smtp_server() as inbox:
        yield inbox


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as received:
        yield received


def channels(smtp: SmtpInbox, receiver: WebhookReceiver) -> dict[str, Any]:
    return {
        "email_enabled": True,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "smtp_username": "alerts",
        "smtp_password": "smtp-password-never-shown",
        "email_from": "merge-assist@example.com",
        "email_to": ["ops@example.com", "oncall@example.com"],
        "webhook_enabled": True,
        "webhook_url": receiver.url,
        "silent_after_seconds": 60,
    }


async def stale_worker(sessions: Sessions, minutes: int) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as session:
        session.add(
            WorkerHeartbeat(
                worker_id="worker-host-1-abc",
                role="worker",
                hostname="host-1",
                pid=1,
                started_at=now - timedelta(hours=1),
                last_seen=now - timedelta(minutes=minutes),
            )
        )


async def test_an_incident_is_notified_once_when_it_fires_and_once_when_it_clears(
    client: httpx.AsyncClient,
    app: Any,
    make_account: MakeAccount,
    sessions: Sessions,
    sandbox: RunningSandbox,
    smtp: SmtpInbox,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await make_account("ada", "admin")
    res: AppResources = app.state.resources
    saved = await client.put(
        "/api/health/alerts/settings", json=channels(smtp, receiver), headers=admin
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["smtp_password_set"] is True
    assert saved.json()["webhook_url_set"] is True
    shown = (await client.get("/api/health/alerts/settings", headers=admin)).text
    assert "smtp-password-never-shown" not in shown
    assert "secret-part" not in shown

    await stale_worker(sessions, minutes=5)
    monkeypatch.setenv(BOT_TOKEN_VARIABLE, "glpat-revoked-token-value")  # the sandbox refuses it
    now = utcnow()
    first = await alerts_duty(res, now)
    assert first is not None
    assert sorted(first.opened) == ["gitlab_token_refused", "process_silent:worker-host-1-abc"]
    assert len(smtp.messages) == 2
    assert len(receiver.posts) == 2
    assert smtp.logins[0].endswith(":alerts")  # logged in with the stored password
    assert any("FIRING: GitLab refuses the bot token" in s for s in smtp.subjects())
    assert all(m["To"] == "ops@example.com, oncall@example.com" for m in smtp.messages)
    assert any("worker-host-1-abc" in text for text in receiver.texts())

    # The next passes see the same conditions: nothing more is sent.
    assert await alerts_duty(res, now + timedelta(seconds=5)) is None  # not due yet
    again = await alerts_duty(res, now + timedelta(seconds=61))
    assert again is not None
    assert again.opened == ()
    assert again.resolved == ()
    assert (len(smtp.messages), len(receiver.posts)) == (2, 2)

    # Both clear: one "resolved" each, then silence.
    monkeypatch.setenv(BOT_TOKEN_VARIABLE, sandbox.token_for("marge-bot"))
    async with unit_of_work(sessions) as session:
        beat = await session.get(WorkerHeartbeat, "worker-host-1-abc")
        assert beat is not None
        beat.last_seen = now + timedelta(seconds=180)  # it came back
    cleared = await alerts_duty(res, now + timedelta(seconds=122))
    assert cleared is not None
    assert len(cleared.resolved) == 2
    assert sum("RESOLVED" in s for s in smtp.subjects()) == 2
    assert sum("RESOLVED" in t for t in receiver.texts()) == 2
    quiet = await alerts_duty(res, now + timedelta(seconds=183))
    assert quiet is not None
    assert quiet.resolved == ()
    assert (len(smtp.messages), len(receiver.posts)) == (4, 4)

    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("alert.%"))
            )
        )
    assert sorted(actions) == [
        "alert.fired",
        "alert.fired",
        "alert.resolved",
        "alert.resolved",
        "alert.settings.update",
    ]

    listed = await client.get("/api/health/alerts", headers=admin)
    assert listed.status_code == 200
    body = listed.json()
    assert body["open"] == 0
    assert {item["rule"] for item in body["incidents"]} == {
        "gitlab_token_refused",
        "process_silent",
    }
    for item in body["incidents"]:
        assert item["resolved_at"] is not None
        kinds = sorted((d["channel"], d["kind"], d["status"]) for d in item["deliveries"])
        assert kinds == [
            ("email", "firing", "sent"),
            ("email", "resolved", "sent"),
            ("webhook", "firing", "sent"),
            ("webhook", "resolved", "sent"),
        ]


async def test_the_test_alert_reaches_both_channels_and_non_admins_are_refused(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: Sessions,
    smtp: SmtpInbox,
    receiver: WebhookReceiver,
) -> None:
    admin = await make_account("ada", "admin")
    viewer = await make_account("vic", "viewer")
    for method, path in (
        ("GET", "/api/health/alerts"),
        ("GET", "/api/health/alerts/settings"),
        ("PUT", "/api/health/alerts/settings"),
        ("POST", "/api/health/alerts/test"),
    ):
        refused = await client.request(method, path, headers=viewer, json={})
        assert refused.status_code == 403, (method, path)

    nothing_on = await client.post("/api/health/alerts/test", headers=admin)
    assert nothing_on.status_code == 422
    assert "No alert channel is turned on" in nothing_on.json()["detail"]

    settings = channels(smtp, receiver) | {"rate_limit_per_hour": 2}
    assert (
        await client.put("/api/health/alerts/settings", json=settings, headers=admin)
    ).is_success
    tested = await client.post("/api/health/alerts/test", headers=admin)
    assert tested.status_code == 200, tested.text
    assert sorted((d["channel"], d["status"]) for d in tested.json()["deliveries"]) == [
        ("email", "sent"),
        ("webhook", "sent"),
    ]
    assert smtp.subjects() == ["[Merge Assist] TEST: Test alert"]
    assert receiver.texts()[0].startswith("*[Merge Assist] TEST: Test alert*")

    # The hourly budget (2 per channel) holds: the third test alert is not sent.
    assert (await client.post("/api/health/alerts/test", headers=admin)).is_success
    limited = (await client.post("/api/health/alerts/test", headers=admin)).json()
    assert {d["status"] for d in limited["deliveries"]} == {"rate_limited"}
    assert (len(smtp.messages), len(receiver.posts)) == (2, 2)

    async with sessions() as session:
        row = await session.get(AlertSettingsRow, 1)
        tests = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "alert.test"))
        )
    assert row is not None
    assert "smtp-password-never-shown" not in (row.smtp_password_encrypted or "")
    assert receiver.url not in (row.webhook_url_encrypted or "")
    assert [entry.success for entry in tests] == [True, True, False]


async def test_a_lost_webhook_and_tokens_about_to_expire_are_alerts(
    client: httpx.AsyncClient,
    app: Any,
    make_account: MakeAccount,
    sessions: Sessions,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await make_account("ada", "admin")
    await make_account("alice", "member")
    monkeypatch.setenv(BOT_TOKEN_VARIABLE, sandbox.token_for("expiring-bot"))
    onboarded = await client.post(
        "/api/projects", json={"gitlab_project": "acme/webapp"}, headers=admin
    )
    assert onboarded.status_code == 201, onboarded.text
    project = onboarded.json()
    # Someone deletes our webhook in GitLab by hand.
    hook = f"/projects/{project['gitlab_project_id']}/hooks/{project['webhook_id']}"
    async with httpx.AsyncClient(base_url=sandbox.api_url) as gitlab:
        deleted = await gitlab.delete(hook, headers={"PRIVATE-TOKEN": sandbox.token_for("root")})
    assert deleted.status_code == 204
    now = utcnow()
    async with unit_of_work(sessions) as session:
        alice = (await session.scalars(select(User).where(User.username == "alice"))).one()
        session.add(
            GitLabIdentity(
                user_id=alice.id,
                gitlab_user_id=77,
                gitlab_username="alice",
                token_encrypted="sealed-token-envelope",
                scopes="api",
                expires_at=now + timedelta(days=3),
                validated_at=now,
            )
        )
    webhook_only = {"webhook_enabled": True, "webhook_url": receiver.url}
    saved = await client.put("/api/health/alerts/settings", json=webhook_only, headers=admin)
    assert saved.status_code == 200

    outcome = await evaluate_once(app.state.resources, now)
    assert sorted(outcome.opened) == [
        "bot_token_expiry",
        f"user_token_expiry:{alice.id}",
        f"webhook:{project['id']}",
    ]
    texts = "\n".join(receiver.texts())
    assert "The webhook of acme/webapp missing" in texts
    assert "The GitLab token of alice expires on" in texts
    assert len(receiver.posts) == 3
