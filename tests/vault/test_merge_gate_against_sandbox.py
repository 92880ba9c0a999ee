"""The merge gate end to end: an MR changing a file bob checked out in the vault is held by the
queue with a comment naming bob, and lands once bob checks the file in (sandbox over HTTP,
the worker's ``run_merge_queue``, the vault API; SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.adapter.runtime import close_merge_queue, run_merge_queue
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.vault import service as vaults
from merge_assist.vault.models import VaultBackend
from tests.vault.conftest import People

PROJECT = "shop/cnc"
BOT = "merge-bot"
PART = b"\x00MCAM part v1\x00"
SCENARIO: dict[str, Any] = {
    "seed": 3,
    "clock_speed": 60,
    "ci": {"duration_seconds": [10, 20], "runner_capacity": 10, "flake_rate": 0.0},
    "users": [
        {"username": "root", "admin": True},
        {"username": BOT, "name": "Merge Bot", "bot": True},
        {"username": "alice", "name": "Alice Archer"},
    ],
    "projects": [
        {
            "path": PROJECT,
            "owner": "root",
            "members": {BOT: "maintainer", "alice": "developer"},
            "protected_branches": [{"name": "main", "push_access_level": "maintainer"}],
            "files": {"README.md": "# cnc\n", "cnc/part.mcam": PART.decode("latin-1")},
            "merge_requests": [
                {
                    "source_branch": "faster-feed",
                    "title": "Faster feed on the part",
                    "author": "alice",
                    "assignees": [BOT],
                    "files": {"cnc/part.mcam": "\x00MCAM part v2 (alice)\x00"},
                }
            ],
        }
    ],
}


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for(BOT))
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=2,
        _env_file=None,  # type: ignore[call-arg]
    )


async def _mr_row(sessions: async_sessionmaker[AsyncSession]) -> MergeRequestRecord | None:
    async with sessions() as session:
        found = await session.execute(select(MergeRequestRecord).where(MergeRequestRecord.iid == 1))
        return found.scalar_one_or_none()


async def _run_until(
    res: AppResources, sandbox: RunningSandbox, project_id: int, wanted: set[str]
) -> MergeRequestRecord:
    async def always() -> bool:
        return True

    row = None
    for _ in range(120):
        await run_merge_queue(res, project_id, always)
        row = await _mr_row(res.sessions)
        if row is not None and row.queue_state in wanted:
            return row
        await asyncio.to_thread(sandbox.advance_clock, 15)
        await asyncio.sleep(0.05)
    raise AssertionError(f"the MR did not reach {wanted}: {row and row.queue_state}")


async def test_a_checked_out_file_holds_the_mr_until_it_is_checked_in(
    app: object,
    client: httpx.AsyncClient,
    people: People,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    async with unit_of_work(sessions) as session:
        project = await projects.onboard(
            session,
            settings,
            gitlab_client_factory(settings),
            projects.Actor(id=None, name="test"),
            PROJECT,
            {"webhook_enabled": False, "strategy": "single", "max_rejections": 1},
        )
        vault = await vaults.create_vault(
            session, name="cnc", backend=VaultBackend.gitlab, project_id=project.id, folder="cnc"
        )
    bob = people["bob"]
    files = f"/api/vault/{vault.id}/files"
    synced = await client.post(f"/api/vault/{vault.id}/sync", headers=bob.headers)
    assert synced.status_code == 200, synced.text
    listing = (await client.get(files, headers=bob.headers)).json()["items"]
    (part,) = [f for f in listing if f["path"] == "part.mcam"]
    checkout = await client.post(
        f"{files}/{part['id']}/checkout", headers=bob.headers, json={"reason": "New fixture"}
    )
    assert checkout.status_code == 200, checkout.text

    try:
        held = await _run_until(res, sandbox, project.id, {"not_ready", "merged"})
        assert held.queue_state == "not_ready"
        assert held.strikes == 0
        assert any("checked out in the vault by @bob" in reason for reason in held.reasons)
        async with GitLabClient(
            sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
        ) as root:
            notes = [n.body for n in await root.mr_notes(PROJECT, 1)]
        assert [n for n in notes if "`cnc/part.mcam` is checked out in the vault by @bob" in n]

        checkin = await client.post(
            f"{files}/{part['id']}/checkin",
            headers=bob.headers,
            files={"file": ("part.mcam", PART)},
            data={"base_version": part["current_version"], "message": "No change after all"},
        )
        assert checkin.status_code == 200, checkin.text
        assert checkin.json()["released"] is True
        landed = await _run_until(res, sandbox, project.id, {"merged", "rejected"})
    finally:
        await close_merge_queue(res)
    assert landed.queue_state == "merged"
    assert landed.strikes == 0
