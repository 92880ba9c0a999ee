"""Onboarding against the GitLab sandbox over real HTTP: hook, encrypted secret, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.audit.models import AuditEntry
from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.errors import NotFound
from merge_assist.kit.settings import Settings
from merge_assist.projects import service
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY
from tests.conftest import MakeAccount
from tests.projects.conftest import PUBLIC_URL, sandbox_hooks


async def onboard(client: httpx.AsyncClient, admin: dict[str, str], ref: object) -> httpx.Response:
    return await client.post("/api/projects", json={"gitlab_project": ref}, headers=admin)


async def test_onboarding_registers_the_hook_and_stores_the_secret_encrypted(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    database_url: str,
) -> None:
    admin = await make_account("ada", "admin")
    response = await onboard(client, admin, "acme/webapp")
    assert response.status_code == 201, response.text
    project = response.json()
    assert project["path_with_namespace"] == "acme/webapp"
    assert project["default_branch"] == "main"
    assert project["is_active"] is True

    hooks = sandbox_hooks(sandbox, "acme/webapp")
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook.id == project["webhook_id"]
    assert hook.url == f"{PUBLIC_URL}/webhook/gitlab"
    assert (hook.merge_requests_events, hook.pipeline_events, hook.note_events) == (True,) * 3
    assert hook.push_events is False

    async with sessions() as session:
        secret = await service.webhook_secret(session, settings, project["id"])
        assert secret == hook.token
        assert len(secret) >= 40
        rows = (await session.execute(text("SELECT * FROM projects"))).all()
    assert rows
    assert all(secret not in str(value) for row in rows for value in row)
    if database_url.startswith("sqlite"):
        database_file = Path(database_url.split("///", 1)[1])
        assert secret.encode() not in await asyncio.to_thread(database_file.read_bytes)

    config = await client.get(f"/api/projects/{project['id']}/config", headers=admin)
    assert config.status_code == 200
    assert config.json()["target_branches"] == ["main"]
    assert config.json()["updated_by"] == "ada"

    async with sessions() as session:
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "project.onboard")
                )
            )
            .scalars()
            .all()
        )
    assert [(e.actor_name, e.target_id) for e in entries] == [("ada", str(project["id"]))]


async def test_onboarding_by_id_with_settings(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    gitlab_id = sandbox.sandbox.store.project_by_ref("acme/tools").id  # type: ignore[union-attr]
    response = await client.post(
        "/api/projects",
        json={"gitlab_project": gitlab_id, "strategy": "batch", "batch_size": 8},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    config = (
        await client.get(f"/api/projects/{response.json()['id']}/config", headers=admin)
    ).json()
    assert (config["strategy"], config["batch_size"], config["target_branches"]) == (
        "batch",
        8,
        ["develop"],
    )


async def test_duplicate_unknown_and_invalid_onboarding(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    assert (await onboard(client, admin, "acme/webapp")).status_code == 201

    again = await onboard(client, admin, "acme/webapp")
    assert again.status_code == 409
    assert "onboarded already" in again.json()["detail"]
    assert len(sandbox_hooks(sandbox, "acme/webapp")) == 1

    for unknown in ("nobody/nothing", "hidden/secret-project", 999999):
        refused = await onboard(client, admin, unknown)
        assert refused.status_code == 404, refused.text
        assert "bot user cannot see it" in refused.json()["detail"]
    assert sandbox_hooks(sandbox, "hidden/secret-project") == []

    invalid = await client.post(
        "/api/projects", json={"gitlab_project": "acme/tools", "strategy": "zipper"}, headers=admin
    )
    assert invalid.status_code == 422
    assert "strategy" in invalid.json()["detail"]
    assert sandbox_hooks(sandbox, "acme/tools") == []  # nothing registered for a refused config

    no_path = await onboard(client, admin, "just-a-name")
    assert no_path.status_code == 422


async def test_a_bot_that_may_not_manage_hooks_is_explained(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    refused = await onboard(client, admin, "acme/docs")
    assert refused.status_code == 502
    assert "make it a Maintainer" in refused.json()["detail"]
    listed = await client.get("/api/projects", headers=admin)
    assert listed.json() == []

    without_hook = await client.post(
        "/api/projects",
        json={"gitlab_project": "acme/docs", "webhook_enabled": False},
        headers=admin,
    )
    assert without_hook.status_code == 201, without_hook.text
    assert without_hook.json()["webhook_id"] is None
    assert sandbox_hooks(sandbox, "acme/docs") == []


async def test_unreachable_gitlab_is_a_502_with_a_sentence(
    client: httpx.AsyncClient, make_account: MakeAccount, app: object, settings: Settings
) -> None:
    admin = await make_account("ada", "admin")
    resources = app.state.resources  # type: ignore[attr-defined]
    # Port 9 (discard) on loopback: nothing listens, the connection is refused.
    resources.provide(
        GITLAB_CLIENT_FACTORY,
        lambda: GitLabClient(
            "http://127.0.0.1:9", "glpat-unused", retry=RetryPolicy(max_retries=0)
        ),
    )
    response = await onboard(client, admin, "acme/webapp")
    assert response.status_code == 502
    assert "unreachable" in response.json()["detail"]


async def test_missing_bot_token_is_explained(
    client: httpx.AsyncClient, make_account: MakeAccount, monkeypatch: object
) -> None:
    admin = await make_account("ada", "admin")
    monkeypatch.delenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN")  # type: ignore[attr-defined]
    response = await onboard(client, admin, "acme/webapp")
    assert response.status_code == 503
    assert "gitlab-bot-token" in response.json()["detail"]


async def test_deactivate_removes_the_hook_and_reonboarding_reactivates(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = await make_account("ada", "admin")
    viewer = await make_account("vic", "viewer")
    project = (await onboard(client, admin, "acme/webapp")).json()

    assert (
        await client.delete(f"/api/projects/{project['id']}", headers=viewer)
    ).status_code == 403
    gitlab_id = sandbox.sandbox.store.project_by_ref("acme/webapp").id  # type: ignore[union-attr]
    async with sessions() as session:
        found = await service.find_by_gitlab_id(session, gitlab_id)
        assert found is not None
        assert found.id == project["id"]
        assert await service.webhook_secret(session, settings, project["id"])
    gone = await client.delete(f"/api/projects/{project['id']}", headers=admin)
    assert gone.status_code == 200
    assert gone.json()["is_active"] is False
    assert sandbox_hooks(sandbox, "acme/webapp") == []
    async with sessions() as session:
        with pytest.raises(NotFound):
            await service.webhook_secret(session, settings, project["id"])
    assert (await client.get(f"/api/projects/{project['id']}", headers=viewer)).status_code == 404
    assert (await client.get(f"/api/projects/{project['id']}", headers=admin)).status_code == 200
    assert (await client.delete(f"/api/projects/{project['id']}", headers=admin)).status_code == 409

    back = await onboard(client, admin, "acme/webapp")
    assert back.status_code == 201
    assert back.json()["id"] == project["id"]
    assert len(sandbox_hooks(sandbox, "acme/webapp")) == 1
