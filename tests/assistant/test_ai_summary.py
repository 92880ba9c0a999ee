"""The AI summary against a real HTTP server speaking the chat-completions protocol.

The stand-in (``gitlab_sandbox.chat``) runs on a loopback port; the product reaches it with
httpx like any hosted or local endpoint. Each way the AI can fail gives the plain diagnosis
with a note (never an error), each call is audited, the budget holds, and what reaches the
server carries none of the secrets seeded in titles, reasons and logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.chat import SUMMARY, RunningChat, run_chat_server
from merge_assist.assistant.ai_summary import AUDIT_ACTION, AiCaller, summarise
from merge_assist.assistant.schemas import Explanation, FailingJob
from merge_assist.audit.models import AuditEntry
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.projects.models import ProjectConfigRow
from merge_assist.secrets.providers import provider_from_settings
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import add_mr, add_project

API_KEY = "sk-test-" + "k" * 24
GITLAB_TOKEN = "glpat-" + "Zq8vR2mN4xT6wY1bC3dE"
URL_PASSWORD = "hunter2-url-pw"
BEARER = "eyBearerSecretValue1234567890"
SETTINGS_URL = "/api/assistant/settings"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The test settings with a writable secrets provider (the API key is stored in it)."""
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        allowed_hosts="testserver",
        secrets_provider="file",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def chat() -> Iterator[RunningChat]:
    with run_chat_server() as running:
        yield running


async def _world(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
    *,
    opted_in: bool = True,
    **changes: Any,
) -> tuple[dict[str, str], int]:
    """AI set up by an admin, a project (opted in or not) with a rejected MR; the admin's
    headers and the MR's id."""
    admin = await make_account("root", "admin")
    body = {
        "enabled": True,
        "base_url": chat.base_url,
        "model": "stand-in-1",
        "api_key": API_KEY,
        "send_titles": True,
        "send_file_names": True,
        "send_log_excerpts": True,
        "timeout_seconds": 10,
        **changes,
    }
    answer = await client.put(SETTINGS_URL, json=body, headers=admin)
    assert answer.status_code == 200, answer.text
    project = await add_project(sessions)
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(ProjectConfigRow)
            .where(ProjectConfigRow.project_id == project)
            .values(ai_debug_enabled=opted_in)
        )
    mr = await add_mr(
        sessions,
        project,
        7,
        state="rejected",
        reasons=[f"pipeline #10 failed for https://ci:{URL_PASSWORD}@ci.example.com/x"],
        strikes=3,
    )
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(MergeRequestRecord)
            .where(MergeRequestRecord.id == mr)
            .values(title=f"Fix deploy (token {GITLAB_TOKEN})")
        )
    return admin, mr


async def _explain(client: httpx.AsyncClient, headers: dict[str, str], mr: int) -> dict[str, Any]:
    answer = await client.get(f"/api/mrs/{mr}/explanation", headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    assert found["next_step"]  # the plain diagnosis is always there
    return found


async def _audits(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        return list(rows)


async def test_the_summary_comes_from_the_endpoint_and_is_audited_without_content(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat)
    found = await _explain(client, admin, mr)
    assert found["ai_summary"] == {
        "outcome": "ok",
        "text": SUMMARY,
        "model": "stand-in-1",
        "note": None,
    }
    [request] = chat.stand_in.received
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    sent = request.json()
    assert sent["model"] == "stand-in-1"
    assert [message["role"] for message in sent["messages"]] == ["system", "user"]
    assert "Queue state: rejected" in sent["messages"][1]["content"]
    [entry] = await _audits(sessions)
    assert entry.success
    assert entry.actor_name == "root"
    assert entry.target_id == str(mr)
    assert entry.details["outcome"] == "ok"
    assert entry.details["model"] == "stand-in-1"
    assert entry.details["usage"] > 0
    stored = str(entry.details)
    assert API_KEY not in stored
    assert SUMMARY not in stored
    assert "Fix deploy" not in stored
    shown = await client.get(SETTINGS_URL, headers=admin)
    assert shown.json()["api_key_set"] is True
    assert shown.json()["usage_today"]["calls"] == 1
    assert API_KEY not in shown.text


FAILURES = (  # (the stand-in's mode, the outcome, words of the note)
    ("refuse", "refused", "HTTP 400"),
    ("unauthorised", "refused", "HTTP 401"),
    ("fail", "failed", "HTTP 500"),
    ("malformed", "bad_answer", "not a chat completion"),
    ("decline", "refused", "declined"),
)


async def test_a_failing_endpoint_gives_the_plain_diagnosis_with_a_note(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat)
    for mode, outcome, words in FAILURES:
        chat.stand_in.mode = mode
        found = await _explain(client, admin, mr)
        summary = found["ai_summary"]
        assert summary["outcome"] == outcome, mode
        assert summary["text"] is None
        assert summary["note"].startswith("No AI summary:")
        assert words in summary["note"]
        assert API_KEY not in summary["note"]
    entries = await _audits(sessions)
    assert [entry.details["outcome"] for entry in entries] == [item[1] for item in FAILURES]
    assert not any(entry.success for entry in entries)


async def test_a_slow_endpoint_times_out(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat, timeout_seconds=1)
    chat.stand_in.mode, chat.stand_in.delay = "slow", 3.0
    found = await _explain(client, admin, mr)
    assert found["ai_summary"]["outcome"] == "timeout"
    assert "within 1 s" in found["ai_summary"]["note"]
    [entry] = await _audits(sessions)
    assert entry.details["outcome"] == "timeout"
    assert entry.details["duration_ms"] < 2500


async def test_the_daily_budget_stops_calls(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat, daily_call_limit=1)
    assert (await _explain(client, admin, mr))["ai_summary"]["outcome"] == "ok"
    second = await _explain(client, admin, mr)
    assert second["ai_summary"]["outcome"] == "budget_exhausted"
    assert "budget" in second["ai_summary"]["note"]
    assert len(chat.stand_in.received) == 1
    outcomes = [entry.details["outcome"] for entry in await _audits(sessions)]
    assert outcomes == ["ok", "budget_exhausted"]
    # Tokens count too: the first call used more than 10.
    limits = {"daily_call_limit": None, "daily_token_limit": 10}
    assert (await client.put(SETTINGS_URL, json=limits, headers=admin)).status_code == 200
    third = await _explain(client, admin, mr)
    assert third["ai_summary"]["outcome"] == "budget_exhausted"
    assert len(chat.stand_in.received) == 1
    limits = {"daily_token_limit": None}
    assert (await client.put(SETTINGS_URL, json=limits, headers=admin)).status_code == 200
    assert (await _explain(client, admin, mr))["ai_summary"]["outcome"] == "ok"


async def test_nothing_leaves_for_a_project_that_did_not_opt_in_or_when_disabled(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat, opted_in=False)
    found = await _explain(client, admin, mr)
    assert found["ai_summary"]["outcome"] == "not_opted_in"
    answer = await client.put(SETTINGS_URL, json={"enabled": False}, headers=admin)
    assert answer.status_code == 200
    found = await _explain(client, admin, mr)
    assert found["ai_summary"] == {
        "outcome": "disabled",
        "text": None,
        "model": None,
        "note": "No AI summary: an admin has not set one up.",
    }
    assert chat.stand_in.received == []
    assert await _audits(sessions) == []


async def test_no_secret_reaches_the_endpoint(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(client, make_account, sessions, chat)
    await _explain(client, admin, mr)
    [request] = chat.stand_in.received
    sent = request.body.decode()
    assert "Fix deploy" in sent
    assert "ci.example.com" in sent
    for secret in (GITLAB_TOKEN, URL_PASSWORD, "glpat-"):
        assert secret not in sent


def _explanation_with_a_log(mr: int, project: int) -> Explanation:
    excerpt = [
        f"$ git clone https://gitlab-ci-token:{URL_PASSWORD}@gitlab.example.com/acme/app.git",
        f"curl -H 'Authorization: Bearer {BEARER}' https://api.example.com/deploy",
        f"export DEPLOY_TOKEN={GITLAB_TOKEN}",
        "E   AssertionError: expected 200, got 503",
    ]
    job = FailingJob(
        id=1, name="deploy", stage="test", web_url=None, failure_reason=None, excerpt=excerpt
    )
    return Explanation(
        mr_id=mr,
        project_id=project,
        reference="acme/webapp!7",
        title=f"Deploy with {GITLAB_TOKEN}",
        web_url=None,
        queue_state="rejected",
        summary="Rejected.",
        since=None,
        waiting_for=[],
        reasons=[],
        strikes=3,
        max_strikes=3,
        strike_history=[],
        batch=None,
        failing_jobs=[job],
        next_step="Fix what the failing job (deploy) reports and push.",
        notes=[],
    )


async def test_no_secret_of_a_log_excerpt_or_title_reaches_the_endpoint(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    chat: RunningChat,
) -> None:
    await _world(client, make_account, sessions, chat)
    caller = AiCaller(
        actor_id=None,
        actor_name="cli",
        sessions=sessions,
        secrets=lambda: provider_from_settings(settings),
    )
    async with sessions() as session:
        found = await summarise(session, caller, _explanation_with_a_log(1, 1), opted_in=True)
    assert found.outcome == "ok"
    sent = chat.stand_in.received[0].body.decode()
    assert "expected 200, got 503" in sent
    assert "Deploy with" in sent
    for secret in (GITLAB_TOKEN, URL_PASSWORD, BEARER, "glpat-"):
        assert secret not in sent
    assert chat.stand_in.received[0].headers["Authorization"] == f"Bearer {API_KEY}"


async def test_what_may_leave_is_the_admins_choice(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
    chat: RunningChat,
) -> None:
    admin, mr = await _world(
        client, make_account, sessions, chat, send_titles=False, send_file_names=False
    )
    await _explain(client, admin, mr)
    sent = chat.stand_in.received[0].body.decode()
    assert "Fix deploy" not in sent
    assert "Title:" not in sent
    assert "ci.example.com" not in sent
    assert "[file]" in sent


UNUSABLE = (  # (a body, words of the refusal)
    ({"base_url": "https://user:pw@api.example.com/v1"}, "may not carry credentials"),
    ({"base_url": "ftp://api.example.com"}, "http(s) address"),
    ({"enabled": True, "base_url": "https://api.example.com/v1"}, "needs a base URL and"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"daily_call_limit": 0}, "daily_call_limit"),
    ({"model": "two words"}, "no spaces"),
)


async def test_unusable_settings_are_refused_with_a_sentence(
    client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    admin = await make_account("root", "admin")
    for body, words in UNUSABLE:
        answer = await client.put(SETTINGS_URL, json=body, headers=admin)
        assert answer.status_code == 422, body
        assert words in answer.json()["detail"]
    assert (await client.get(SETTINGS_URL, headers=admin)).json()["updated_at"] is None


async def test_the_key_can_be_cleared_and_limits_lifted(
    client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    admin = await make_account("root", "admin")
    first = {"api_key": API_KEY, "daily_call_limit": 5}
    assert (await client.put(SETTINGS_URL, json=first, headers=admin)).json()["api_key_set"]
    answer = await client.put(
        SETTINGS_URL, json={"clear_api_key": True, "daily_call_limit": None}, headers=admin
    )
    assert answer.json()["api_key_set"] is False
    assert answer.json()["daily_call_limit"] is None
    assert answer.json()["updated_by"] == "root"
