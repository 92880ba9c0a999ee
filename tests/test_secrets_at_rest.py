"""Secrets at rest: after a GitLab-token sign-in, an onboarding and merges, no byte of the
user's token, the bot's token or the project's webhook secret is in the data folder, the
database (SQLite's file pages, and every column of every table on any backend) or a log line.

The tokens are not ``glpat-`` tokens on purpose: the log redaction knows that prefix, and this
test must show that the secrets are never written, not that they are masked afterwards.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.kit.logging import JsonFormatter
from merge_assist.kit.settings import Environment, Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.models import metadata
from merge_assist.projects import service as projects
from tests.conftest import MakeAccount
from tests.merging.adapter.driver import BOT, PROJECT, queue_scenario
from tests.merging.adapter.test_queue_against_sandbox import run_until_settled

ALICE_TOKEN = "sandboxpat-alice-at-rest-7c1e9a0b3d5f"
BOT_TOKEN = "sandboxpat-bot-at-rest-2f4a6c8e0b1d"
MRS = 3


def _scenario() -> dict[str, Any]:
    scenario = queue_scenario(MRS, broken=frozenset(), conflicting=None)
    for user in scenario["users"]:
        if user["username"] == "alice":
            user["tokens"] = [{"name": "main", "scopes": ["api"], "value": ALICE_TOKEN}]
        if user["username"] == BOT:
            user["tokens"] = [{"name": "bot", "scopes": ["api"], "value": BOT_TOKEN}]
    return scenario


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(_scenario()) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", BOT_TOKEN)
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=2,
        public_url="http://merge-assist.invalid",
        allowed_hosts="testserver",  # the Host of the test client
        _env_file=None,  # type: ignore[call-arg]
    )


def _found_in_files(folder: Path, secrets: dict[str, str]) -> list[str]:
    """``name in path`` for every secret whose bytes are in a file under ``folder``."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()  # SQLite's pages, its WAL, git objects: everything
        found += [f"{name} in {path}" for name, v in secrets.items() if v.encode() in content]
    return found


async def _found_in_tables(
    sessions: async_sessionmaker[AsyncSession], secrets: dict[str, str]
) -> list[str]:
    """``name in table`` for every secret in any value of any row (on every backend)."""
    found = []
    async with sessions() as session:
        for table in metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            text = repr([tuple(row) for row in rows])
            found += [f"{name} in table {table.name}" for name, v in secrets.items() if v in text]
    return found


def _found_in_logs(records: list[logging.LogRecord], secrets: dict[str, str]) -> list[str]:
    """Secrets in a log line as written (JSON) or in what was handed to the logger at all."""
    formatter = JsonFormatter()
    found = []
    for record in records:
        handed = f"{record.getMessage()} {record.__dict__!r}"
        line = formatter.format(record)
        for name, value in secrets.items():
            if value in handed or value in line:
                found.append(f"{name} in a log line of {record.name}: {line[:200]}")
    return found


async def test_no_token_or_webhook_secret_is_stored_or_logged_in_clear(
    app: Any,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
    make_account: MakeAccount,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    signed_in = await client.post("/api/auth/login-gitlab", json={"token": ALICE_TOKEN})
    assert signed_in.status_code == 200, signed_in.text

    admin = await make_account("admin", "admin")
    onboarded = await client.post(
        "/api/projects",
        headers=admin,
        json={"gitlab_project": PROJECT, "max_rejections": 1, "batch_size": 5},
    )
    assert onboarded.status_code == 201, onboarded.text
    project_id = onboarded.json()["id"]
    async with sessions() as session:
        webhook_secret = await projects.webhook_secret(session, settings, project_id)
    delivered = await client.post(
        "/webhook/gitlab",
        headers={"X-Gitlab-Token": webhook_secret, "X-Gitlab-Event": "Merge Request Hook"},
        json={
            "object_kind": "merge_request",
            "project": {"id": onboarded.json()["gitlab_project_id"]},
            "object_attributes": {"iid": 1, "action": "update"},
        },
    )
    assert delivered.status_code < 300, delivered.text

    res: AppResources = app.state.resources
    await run_until_settled(res, sandbox, project_id, expected=MRS)
    async with sessions() as session:
        states = (await session.execute(select(MergeRequestRecord.queue_state))).scalars().all()
    assert sorted(states) == ["merged"] * MRS  # the flow really ran

    secrets = {"user token": ALICE_TOKEN, "bot token": BOT_TOKEN, "webhook secret": webhook_secret}
    found = _found_in_files(tmp_path, secrets)
    found += await _found_in_tables(sessions, secrets)
    found += _found_in_logs(caplog.records, secrets)
    assert caplog.records  # the capture saw the flow's logging
    assert not found, "\n".join(found)
