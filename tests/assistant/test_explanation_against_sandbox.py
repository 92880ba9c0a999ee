"""The diagnosis end to end: the queue's rows and the sandbox over HTTP, through
``GET /api/mrs/{id}/explanation`` and ``merge-assist explain`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from gitlab_sandbox.chat import SUMMARY, run_chat_server
from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.assistant.models import SETTINGS_ROW_ID, AssistantSettingsRow
from merge_assist.audit.models import AuditEntry
from merge_assist.cli import app as cli_app
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.projects.models import ProjectConfigRow
from tests.assistant.sandbox_setup import (
    APPROVALS,
    BOT,
    BROKEN,
    CONFLICT,
    CULPRIT,
    DISCUSSIONS,
    DRAFT,
    LOCKED,
    PROJECT,
    SCENARIO,
    onboard_with_rows,
    sandbox_settings,
    shape_gitlab,
)
from tests.conftest import MakeAccount


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for(BOT))
    return sandbox_settings(database_url, tmp_path, sandbox)


@pytest.fixture
async def explained(
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    make_account: MakeAccount,
) -> dict[int, dict[str, Any]]:
    pipeline = await shape_gitlab(sandbox)
    ids = await onboard_with_rows(sessions, settings, pipeline)
    admin = await make_account("ada", "admin")
    found = {}
    for iid, mr_id in ids.items():
        answer = await client.get(f"/api/mrs/{mr_id}/explanation", headers=admin)
        assert answer.status_code == 200, answer.text
        found[iid] = answer.json()
    return found


def _codes(explanation: dict[str, Any]) -> dict[str, str]:
    return {reason["code"]: reason["source"] for reason in explanation["reasons"]}


async def test_each_reason_is_explained_from_gitlab_and_the_queue(
    explained: dict[int, dict[str, Any]],
) -> None:
    assert _codes(explained[DRAFT])["draft"] == "gitlab"
    assert explained[DRAFT]["next_step"].startswith("Mark it as ready when it is done")
    assert _codes(explained[DISCUSSIONS])["discussions"] == "gitlab"
    assert explained[DISCUSSIONS]["next_step"].startswith("Resolve the open threads")
    approvals = explained[APPROVALS]
    assert _codes(approvals) == {"approvals": "gitlab"}  # its pipeline passed, nothing else
    assert approvals["reasons"][0]["detail"] == "it needs 1 more approval"
    assert approvals["next_step"] == "Ask a reviewer to approve it."
    assert _codes(explained[CONFLICT])["conflicts"] == "gitlab"
    assert explained[CONFLICT]["next_step"].startswith("Rebase it onto the target branch")
    for explanation in explained.values():
        assert explanation["notes"] == []
        assert explanation["reference"].startswith(f"{PROJECT}!")


async def test_a_failed_pipeline_comes_with_its_failing_job_and_log_lines(
    explained: dict[int, dict[str, Any]],
) -> None:
    broken = explained[BROKEN]
    assert _codes(broken)["pipeline_failed"] == "queue"
    assert broken["strikes"] == 1
    assert broken["max_strikes"] == 2
    assert [s["cause"] for s in broken["strike_history"]] == ["not_ready"]
    assert broken["since"].startswith("2026-11-20T08:20")  # the strike
    (job,) = broken["failing_jobs"]
    assert job["failure_reason"] == "script_failure"
    assert any(
        line.startswith("E       AssertionError:") and "src/broken.txt" in line
        for line in job["excerpt"]
    )
    assert job["excerpt"][-1] == "ERROR: Job failed: exit code 1"
    assert broken["next_step"].startswith(f"Fix what the failing job ({job['name']}) reports")


async def test_a_batch_culprit_sees_the_batch_and_its_pipelines_log(
    explained: dict[int, dict[str, Any]],
) -> None:
    culprit = explained[CULPRIT]
    assert culprit["queue_state"] == "rejected"
    assert _codes(culprit)["batch_failed"] == "queue"
    assert culprit["batch"]["is_culprit"] is True
    assert culprit["batch"]["members"] == [APPROVALS, CULPRIT]
    assert [s["cause"] for s in culprit["strike_history"]] == ["batch_failed"]
    assert any("src/batch.txt" in line for line in culprit["failing_jobs"][0]["excerpt"])
    assert culprit["next_step"].startswith("Its changes broke the batch pipeline")
    assert culprit["next_step"].endswith("assign the bot again to queue it anew.")
    innocent = explained[APPROVALS]
    assert innocent["batch"]["is_culprit"] is False
    assert innocent["failing_jobs"] == []


async def test_a_vault_lock_is_held_not_the_authors_fault(
    explained: dict[int, dict[str, Any]],
) -> None:
    locked = explained[LOCKED]
    assert _codes(locked)["file_locked"] == "queue"
    held = [reason for reason in locked["reasons"] if reason["held"]]
    assert [reason["detail"] for reason in held] == [
        "`cnc/part.mcam` is checked out in the vault by @bob"
    ]


async def test_whoever_cannot_see_the_mr_gets_404_and_a_big_id_422(
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    make_account: MakeAccount,
) -> None:
    ids = await onboard_with_rows(sessions, settings, 1)
    stranger = await make_account("sam", no_roles=True)  # no project permission
    answer = await client.get(f"/api/mrs/{ids[DRAFT]}/explanation", headers=stranger)
    assert answer.status_code == 404
    assert "There is no merge request" in answer.json()["detail"]
    assert (await client.get(f"/api/mrs/{ids[DRAFT]}/explanation")).status_code == 401
    too_big = await client.get(f"/api/mrs/{2**31}/explanation", headers=stranger)
    assert too_big.status_code == 422


async def test_the_command_line_explains_a_reference(
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    await onboard_with_rows(sessions, settings, 1)
    assert settings.database_url is not None
    monkeypatch.setenv("MERGE_ASSIST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MERGE_ASSIST_SECRET_KEY", settings.resolved_secret_key())
    monkeypatch.setenv("MERGE_ASSIST_GITLAB_URL", sandbox.url)
    monkeypatch.setenv("MERGE_ASSIST_SECRET_ASSISTANT_API_KEY", "cli-test-key")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        found = await asyncio.to_thread(
            CliRunner().invoke, cli_app, ["explain", f"{PROJECT}!{LOCKED}"]
        )
        with run_chat_server() as chat:
            await _set_up_the_ai(sessions, chat.base_url)
            with_ai = await asyncio.to_thread(
                CliRunner().invoke, cli_app, ["explain", f"{PROJECT}!{LOCKED}", "--ai"]
            )
            received = list(chat.stand_in.received)
        unknown = await asyncio.to_thread(CliRunner().invoke, cli_app, ["explain", "acme/x!3"])
        malformed = await asyncio.to_thread(CliRunner().invoke, cli_app, ["explain", "acme"])
    finally:
        get_settings.cache_clear()
    assert found.exit_code == 0, found.output
    assert f"{PROJECT}!{LOCKED}  Change {LOCKED}" in found.output
    assert "checked out in the vault by @bob" in found.output
    # GitLab was asked as the bot: the approval it lacks comes from there.
    assert "Next: Ask a reviewer to approve it." in found.output
    assert unknown.exit_code == 1
    assert "No onboarded project is called 'acme/x'." in unknown.output
    assert malformed.exit_code == 1
    assert "write PROJECT!IID" in malformed.output
    # --ai: the summary after the plain diagnosis, asked with the environment's key, audited.
    assert with_ai.exit_code == 0, with_ai.output
    assert "Next: Ask a reviewer to approve it." in with_ai.output
    assert f"AI summary (stand-in-1, AI-generated, advisory):\n  {SUMMARY}" in with_ai.output
    assert "AI summary" not in found.output
    assert [request.headers["Authorization"] for request in received] == ["Bearer cli-test-key"]
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "assistant.ai.summary")
        )
    assert audited is not None
    assert audited.actor_name == "cli"
    assert audited.details["outcome"] == "ok"


async def _set_up_the_ai(sessions: async_sessionmaker[AsyncSession], base_url: str) -> None:
    """What an admin's settings and the project's opt-in store."""
    async with unit_of_work(sessions) as session:
        session.add(
            AssistantSettingsRow(
                id=SETTINGS_ROW_ID, enabled=True, base_url=base_url, model="stand-in-1"
            )
        )
        await session.execute(update(ProjectConfigRow).values(ai_debug_enabled=True))
