from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.ingest.models import InboxEvent
from merge_assist.ingest.service import WEBHOOK_REJECTIONS
from merge_assist.kit.bus import Subscription
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, wake_topic
from merge_assist.kit.rate_limit import FailureWindow
from merge_assist.kit.settings import Settings
from merge_assist.projects.models import Project
from tests.ingest.conftest import BODY_LIMIT
from tests.workers.factories import make_project

SECRET = "hook-secret-of-the-project"
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def project(sessions: Sessions, settings: Settings) -> Project:
    return await make_project(sessions, settings=settings, webhook_secret=SECRET)


@pytest.fixture
async def wakeups(app: FastAPI, project: Project) -> AsyncIterator[Subscription]:
    """The owner's view of the project's wake-ups (the group exists before any delivery)."""
    bus = bus_of(app.state.resources)
    async with bus.subscribe(wake_topic(project.id), WAKE_GROUP, "test-owner") as subscription:
        yield subscription


def mr_event(project: Project, iid: int = 7, **attributes: Any) -> dict[str, Any]:
    return {
        "object_kind": "merge_request",
        "project": {"id": project.gitlab_project_id},
        "object_attributes": {"iid": iid, "state": "opened", **attributes},
    }


def pipeline_event(project: Project, iid: int = 7) -> dict[str, Any]:
    return {
        "object_kind": "pipeline",
        "project": {"id": project.gitlab_project_id},
        "object_attributes": {"id": 99, "status": "success"},
        "merge_request": {"iid": iid},
    }


async def post(
    client: httpx.AsyncClient, payload: Any, token: str | None = SECRET, **headers: str
) -> httpx.Response:
    sent = {"Content-Type": "application/json", **headers}
    if token is not None:
        sent["X-Gitlab-Token"] = token
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return await client.post("/webhook/gitlab", content=body, headers=sent)


async def inbox(sessions: Sessions) -> list[InboxEvent]:
    async with sessions() as session:
        return list((await session.scalars(select(InboxEvent).order_by(InboxEvent.id))).all())


async def drain(subscription: Subscription) -> list[dict[str, Any]]:
    """Every wake-up delivered so far (the in-process bus delivers during the publish)."""
    payloads = []
    while (delivery := await subscription.next(0)) is not None:
        payloads.append(delivery.event.payload)
        await delivery.ack()
    return payloads


async def test_accepted_event_is_stored_and_wakes_the_owner(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, wakeups: Subscription
) -> None:
    response = await post(client, mr_event(project), **{"Idempotency-Key": "delivery-1"})
    assert response.status_code == 202
    assert response.json() == {"status": "accepted", "duplicate": False, "reason": None}
    [row] = await inbox(sessions)
    assert (row.project_id, row.event_kind, row.object_iid) == (project.id, "merge_request", 7)
    assert row.idempotency_key == "delivery-1"
    assert row.processed_at is None
    assert await drain(wakeups) == [{"project_id": project.id, "reason": "webhook"}]


@pytest.mark.parametrize(
    "headers",
    [
        {"Idempotency-Key": "same-key"},
        {},  # no key at all (GitLab before 17.4): the body's hash
    ],
)
async def test_replayed_delivery_is_stored_once_and_wakes_once(
    client: httpx.AsyncClient,
    project: Project,
    sessions: Sessions,
    wakeups: Subscription,
    headers: dict[str, str],
) -> None:
    first = await post(client, mr_event(project), **headers)
    again = await post(client, mr_event(project), **headers)
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert len(await inbox(sessions)) == 1
    assert len(await drain(wakeups)) == 1


async def test_a_resent_delivery_is_recognised_whatever_its_request_uuids(
    client: httpx.AsyncClient, project: Project, sessions: Sessions
) -> None:
    """web_hook_service.rb: a delivery sent again keeps its Idempotency-Key; its
    X-Gitlab-Webhook-UUID (random per request) and X-Gitlab-Event-UUID may differ."""
    first = {"Idempotency-Key": "d-1", "X-Gitlab-Webhook-UUID": "w-1", "X-Gitlab-Event-UUID": "e"}
    again = {"Idempotency-Key": "d-1", "X-Gitlab-Webhook-UUID": "w-2", "X-Gitlab-Event-UUID": "f"}
    assert (await post(client, mr_event(project), **first)).status_code == 202
    assert (await post(client, mr_event(project), **again)).status_code == 200
    assert len(await inbox(sessions)) == 1


@pytest.mark.parametrize("with_keys", [True, False])
async def test_events_of_one_request_sharing_the_event_uuid_are_all_kept(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, with_keys: bool
) -> None:
    """One GitLab request (a push) triggers a Push Hook and an MR hook with the same
    X-Gitlab-Event-UUID: both are distinct events (issue 14, item 7). Without an
    Idempotency-Key (GitLab before 17.4) they are told apart by their bodies."""
    shared = {"X-Gitlab-Event-UUID": "0b5e1a4c-1111-4222-8333-444455556666"}
    for n, payload in enumerate((mr_event(project), pipeline_event(project))):
        keys = {"Idempotency-Key": f"delivery-{n}"} if with_keys else {}
        response = await post(client, payload, **shared, **keys)
        assert response.status_code == 202
    assert len(await inbox(sessions)) == 2


async def test_idempotency_key_wins_over_the_event_uuid(
    client: httpx.AsyncClient, project: Project, sessions: Sessions
) -> None:
    await post(client, mr_event(project), **{"Idempotency-Key": "k", "X-Gitlab-Event-UUID": "a"})
    second = await post(
        client, mr_event(project), **{"Idempotency-Key": "k", "X-Gitlab-Event-UUID": "b"}
    )
    assert second.status_code == 200
    [row] = await inbox(sessions)
    assert row.idempotency_key == "k"


async def test_out_of_order_events_only_wake_the_owner(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, wakeups: Subscription
) -> None:
    """A newer pipeline event before an older MR event: both are kept, and neither carries
    state into the queue; the owner re-reads GitLab, so order does not matter."""
    assert (await post(client, pipeline_event(project))).status_code == 202
    older = mr_event(project, updated_at="2026-11-22T01:00:00Z")
    assert (await post(client, older)).status_code == 202
    kinds = [row.event_kind for row in await inbox(sessions)]
    assert kinds == ["pipeline", "merge_request"]
    woken = await drain(wakeups)
    assert woken == [{"project_id": project.id, "reason": "webhook"}] * 2


@pytest.mark.parametrize("token", ["wrong-secret", "", None])
async def test_wrong_or_missing_token_is_refused(
    client: httpx.AsyncClient,
    project: Project,
    sessions: Sessions,
    wakeups: Subscription,
    token: str | None,
) -> None:
    response = await post(client, mr_event(project), token=token)
    assert response.status_code == 401
    assert response.json()["detail"] == "The webhook could not be authenticated."
    assert await inbox(sessions) == []
    assert await drain(wakeups) == []


async def test_unknown_and_deactivated_projects_get_the_same_answer(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, settings: Settings
) -> None:
    wrong = await post(client, mr_event(project), token="wrong-secret")
    unknown = await post(client, {"object_kind": "push", "project": {"id": 987654}})
    inactive = await make_project(sessions, settings=settings, webhook_secret=SECRET, active=False)
    deactivated = await post(client, mr_event(inactive))
    assert unknown.status_code == deactivated.status_code == 401
    assert unknown.json() == wrong.json() == deactivated.json()
    assert await inbox(sessions) == []


async def test_disabled_webhook_is_ignored(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, app: FastAPI
) -> None:
    quiet = await make_project(
        sessions, settings=settings, webhook_secret=SECRET, webhook_enabled=False
    )
    bus = bus_of(app.state.resources)
    async with bus.subscribe(wake_topic(quiet.id), WAKE_GROUP, "test-owner") as subscription:
        response = await post(client, mr_event(quiet))
        assert await drain(subscription) == []
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert await inbox(sessions) == []


async def test_unknown_kinds_are_stored_and_ignored(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, wakeups: Subscription
) -> None:
    payload = {"object_kind": "wiki_page", "project": {"id": project.gitlab_project_id}}
    response = await post(client, payload)
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    [row] = await inbox(sessions)
    assert row.event_kind == "wiki_page"
    assert row.processed_at is not None  # never counted as backlog
    assert await drain(wakeups) == []


async def test_push_events_use_the_header_when_the_kind_is_missing(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, wakeups: Subscription
) -> None:
    payload = {"project_id": project.gitlab_project_id, "ref": "refs/heads/main"}
    response = await post(client, payload, **{"X-Gitlab-Event": "Push Hook"})
    assert response.status_code == 202
    [row] = await inbox(sessions)
    assert (row.event_kind, row.object_iid) == ("push", None)
    assert len(await drain(wakeups)) == 1


async def test_body_over_the_limit_is_refused(
    client: httpx.AsyncClient, project: Project, sessions: Sessions
) -> None:
    payload = mr_event(project, description="x" * BODY_LIMIT)
    response = await post(client, payload)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert await inbox(sessions) == []


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"object_kind": "push"}', "does not name a project"),
    ],
)
async def test_malformed_bodies_get_a_sentence(
    client: httpx.AsyncClient, project: Project, body: bytes, sentence: str
) -> None:
    response = await post(client, body)
    assert response.status_code == 400
    assert sentence in response.json()["detail"]


# --- issue 13, item 8: the token before the body; hostile bodies; token guessers ---------


DEEP = b"[" * BODY_LIMIT  # far deeper than the JSON parser's recursion limit


async def test_a_deeply_nested_body_without_a_token_is_refused_unread(
    client: httpx.AsyncClient, project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    """Nested brackets without a token gave a 500 and a logged RecursionError."""
    response = await post(client, DEEP, token=None)
    assert response.status_code == 401
    assert response.json()["detail"] == "The webhook could not be authenticated."
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_a_deeply_nested_body_with_the_token_is_a_400(
    client: httpx.AsyncClient, project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    response = await post(client, DEEP)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_the_token_of_one_project_does_not_deliver_for_another(
    client: httpx.AsyncClient, project: Project, sessions: Sessions, settings: Settings
) -> None:
    other = await make_project(sessions, settings=settings, webhook_secret="other-secret")
    crossed = await post(client, mr_event(other), token=SECRET)
    assert crossed.status_code == 401
    assert (await post(client, mr_event(other), token="other-secret")).status_code == 202
    assert (await post(client, mr_event(project))).status_code == 202


async def test_an_address_guessing_tokens_gets_429_and_others_still_deliver(
    app: FastAPI, project: Project, sessions: Sessions
) -> None:
    app.state.resources.provide(WEBHOOK_REJECTIONS, FailureWindow(3, 60))
    guesser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 4000)),
        base_url="http://testserver",
    )
    gitlab = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.7", 4000)),
        base_url="http://testserver",
    )
    async with guesser, gitlab:
        for attempt in range(3):
            assert (
                await post(guesser, mr_event(project), token=f"guess-{attempt}")
            ).status_code == 401
        refused = await post(guesser, mr_event(project))  # even the right token, for a while
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "try again" in refused.json()["detail"]
        assert (await post(gitlab, mr_event(project))).status_code == 202
    assert len(await inbox(sessions)) == 1
