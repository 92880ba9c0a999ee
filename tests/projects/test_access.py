"""Configuration changes, webhook on/off, permissions and who sees and changes what."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.audit.models import AuditEntry
from merge_assist.auth.principal import Principal
from merge_assist.auth.service import load_principal
from merge_assist.kit.bus import RedisStreamsBus
from merge_assist.kit.bus.wake import WAKE_GROUP, bus_of, wake_topic
from merge_assist.projects import service
from tests.conftest import MakeAccount
from tests.projects.conftest import sandbox_hooks


@pytest.fixture
async def admin(make_account: MakeAccount) -> dict[str, str]:
    return await make_account("ada", "admin")


async def onboard(client: httpx.AsyncClient, admin: dict[str, str], path: str) -> int:
    response = await client.post("/api/projects", json={"gitlab_project": path}, headers=admin)
    assert response.status_code == 201, response.text
    project_id: int = response.json()["id"]
    return project_id


async def user_id(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    me = await client.get("/api/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    found: int = me.json()["id"]
    return found


async def grant(
    client: httpx.AsyncClient, admin: dict[str, str], project_id: int, who: int, **flags: bool
) -> httpx.Response:
    return await client.put(
        f"/api/projects/{project_id}/permissions", json={"user_id": who, **flags}, headers=admin
    )


async def test_config_update_is_validated_and_audited(
    client: httpx.AsyncClient, admin: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    url = f"/api/projects/{project_id}/config"

    changed = await client.put(
        url,
        json={"batch_size": 7, "strategy": "batch", "labels": {"rejected": "MA: Rejected"}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["batch_size"], body["strategy"]) == (7, "batch")
    assert body["labels"]["rejected"] == "MA: Rejected"
    assert body["labels"]["recognized"] == "Merge Assist: Recognised for Merge"

    refusals = {
        "strategy": {"strategy": "octopus"},
        "batch_size": {"batch_size": 500},
        "label key": {"labels": {"sparkly": "x"}},
        "needs a name": {"labels": {"not_ready": ""}},
        "not a valid branch name": {"target_branches": ["bad..name"]},
    }
    for fragment, payload in refusals.items():
        refused = await client.put(url, json=payload, headers=admin)
        assert refused.status_code == 422, payload
        assert fragment in refused.json()["detail"]
    unknown_field = await client.put(url, json={"colour": "blue"}, headers=admin)
    assert unknown_field.status_code == 422
    assert (await client.get(url, headers=admin)).json()["batch_size"] == 7

    async with sessions() as session:
        entry = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "project.config.update")
            )
        ).scalar_one()
    assert entry.details["before"]["batch_size"] == 5
    assert entry.details["after"]["batch_size"] == 7
    assert entry.details["changed"] == ["batch_size", "labels", "strategy"]


async def test_webhook_off_removes_the_hook_and_on_recreates_it(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    first = sandbox_hooks(sandbox, "acme/webapp")[0]
    url = f"/api/projects/{project_id}/config"

    off = await client.put(url, json={"webhook_enabled": False}, headers=admin)
    assert off.status_code == 200
    assert sandbox_hooks(sandbox, "acme/webapp") == []
    project = (await client.get(f"/api/projects/{project_id}", headers=admin)).json()
    assert project["webhook_id"] is None

    on = await client.put(url, json={"webhook_enabled": True}, headers=admin)
    assert on.status_code == 200
    hooks = sandbox_hooks(sandbox, "acme/webapp")
    assert len(hooks) == 1
    assert hooks[0].id != first.id
    assert hooks[0].token != first.token  # a fresh secret with every new hook
    project = (await client.get(f"/api/projects/{project_id}", headers=admin)).json()
    assert project["webhook_id"] == hooks[0].id


async def test_who_may_change_the_configuration(
    client: httpx.AsyncClient, admin: dict[str, str], make_account: MakeAccount
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    other_id = await onboard(client, admin, "acme/tools")
    viewer = await make_account("vic", "viewer")
    owner = await make_account("olga", "project_owner")
    member = await make_account("max", "member")
    url = f"/api/projects/{project_id}/config"
    change = {"max_rejections": 5}

    assert (await client.put(url, json=change, headers=viewer)).status_code == 403
    post = await client.post("/api/projects", json={"gitlab_project": "acme/x"}, headers=viewer)
    assert post.status_code == 403
    assert (await client.put(url, json=change, headers=owner)).status_code == 403

    owner_id = await user_id(client, owner)
    assert (await grant(client, admin, project_id, owner_id, can_manage=True)).status_code == 200
    allowed = await client.put(url, json=change, headers=owner)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["updated_by"] == "olga"
    other = await client.put(f"/api/projects/{other_id}/config", json=change, headers=owner)
    assert other.status_code == 403

    # can_manage refines project_owner; it does not lift a member to configuring.
    member_id = await user_id(client, member)
    await grant(client, admin, project_id, member_id, can_manage=True)
    assert (await client.put(url, json=change, headers=member)).status_code == 403

    # Non-admins cannot read or grant permissions.
    perms = f"/api/projects/{project_id}/permissions"
    assert (await client.get(perms, headers=owner)).status_code == 403
    assert (
        await grant(client, owner, project_id, owner_id, can_set_priority=True)
    ).status_code == 403


async def test_permissions_and_priority_rule(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    member = await make_account("max", "member")
    manager = await make_account("pam", "priority_manager")
    member_id = await user_id(client, member)
    manager_id = await user_id(client, manager)

    async def principal(uid: int) -> Principal:
        async with sessions() as session:
            found = await load_principal(session, uid)
        assert found is not None
        return found

    async def may_set_priority(uid: int) -> bool:
        async with sessions() as session:
            return await service.can_set_priority(session, await principal(uid), project_id)

    assert await may_set_priority(manager_id) is True
    assert await may_set_priority(member_id) is False
    listed = await grant(client, admin, project_id, member_id, can_set_priority=True)
    assert listed.status_code == 200
    assert listed.json() == [
        {"user_id": member_id, "username": "max", "can_manage": False, "can_set_priority": True}
    ]
    assert await may_set_priority(member_id) is True
    async with sessions() as session:
        assert await service.can_manage(session, await principal(member_id), project_id) is False

    removed = await grant(client, admin, project_id, member_id)
    assert removed.json() == []
    assert await may_set_priority(member_id) is False
    missing_user = await grant(client, admin, project_id, 424242, can_manage=True)
    assert missing_user.status_code == 404
    missing_project = await grant(client, admin, 424242, member_id, can_manage=True)
    assert missing_project.status_code == 404


async def test_list_is_filtered_by_what_the_caller_may_see(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_account: MakeAccount,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    webapp = await onboard(client, admin, "acme/webapp")
    tools = await onboard(client, admin, "acme/tools")
    viewer = await make_account("vic", "viewer")
    roleless = await make_account("rex", "viewer")
    roleless_id = await user_id(client, roleless)
    users = await client.patch(f"/api/users/{roleless_id}", json={"roles": []}, headers=admin)
    assert users.status_code == 200, users.text
    await client.delete(f"/api/projects/{tools}", headers=admin)

    def paths(response: httpx.Response) -> list[str]:
        assert response.status_code == 200, response.text
        return [p["path_with_namespace"] for p in response.json()]

    assert paths(await client.get("/api/projects", headers=admin)) == ["acme/tools", "acme/webapp"]
    assert paths(await client.get("/api/projects", headers=viewer)) == ["acme/webapp"]
    assert paths(await client.get("/api/projects", headers=roleless)) == []
    assert (await client.get(f"/api/projects/{webapp}", headers=roleless)).status_code == 404
    await grant(client, admin, webapp, roleless_id, can_set_priority=True)
    assert paths(await client.get("/api/projects", headers=roleless)) == ["acme/webapp"]
    assert (await client.get(f"/api/projects/{webapp}/config", headers=roleless)).status_code == 200
    assert (await client.get("/api/projects")).status_code == 401


@pytest.mark.redis
async def test_a_config_change_wakes_the_projects_owner_after_commit(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    app: FastAPI,
    redis_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An API process (no worker, Redis bus) wakes whoever owns the project; the worker then
    reads the committed configuration."""
    res = app.state.resources
    res.settings = res.settings.model_copy(update={"redis_url": redis_url})
    project_id = await onboard(client, admin, "acme/webapp")
    worker_bus = RedisStreamsBus(redis_url)
    try:
        async with worker_bus.subscribe(wake_topic(project_id), WAKE_GROUP, "worker") as wakes:
            changed = await client.put(
                f"/api/projects/{project_id}/config",
                json={"polling_interval_seconds": 60},
                headers=admin,
            )
            delivery = await wakes.next(5)
            async with sessions() as session:
                config = await service.config_row(session, project_id)
    finally:
        await worker_bus.close()
        await bus_of(res).close()
    assert changed.status_code == 200, changed.text
    assert delivery is not None
    assert delivery.event.payload == {"project_id": project_id, "reason": "config"}
    assert config.polling_interval_seconds == 60


async def test_parallel_tests_is_stored_and_bounded(
    client: httpx.AsyncClient, admin: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    url = f"/api/projects/{project_id}/config"
    assert (await client.get(url, headers=admin)).json()["parallel_tests"] == 4

    changed = await client.put(url, json={"parallel_tests": 2}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["parallel_tests"] == 2
    assert (await client.get(url, headers=admin)).json()["parallel_tests"] == 2
    async with sessions() as session:
        assert (await service.get_config(session, project_id)).parallel_tests == 2

    for value, bound in ((0, "greater than or equal to 1"), (21, "less than or equal to 20")):
        refused = await client.put(url, json={"parallel_tests": value}, headers=admin)
        assert refused.status_code == 422, value
        detail = refused.json()["detail"]
        assert detail.startswith("Invalid configuration: parallel_tests: "), detail
        assert bound in detail
    assert (await client.get(url, headers=admin)).json()["parallel_tests"] == 2


async def test_pipeline_retries_is_stored_and_bounded(
    client: httpx.AsyncClient, admin: dict[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    project_id = await onboard(client, admin, "acme/webapp")
    url = f"/api/projects/{project_id}/config"
    assert (await client.get(url, headers=admin)).json()["pipeline_retries"] == 1

    changed = await client.put(url, json={"pipeline_retries": 0}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["pipeline_retries"] == 0
    async with sessions() as session:
        assert (await service.get_config(session, project_id)).pipeline_retries == 0

    refused = await client.put(url, json={"pipeline_retries": 4}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("Invalid configuration: pipeline_retries: ")
    assert (await client.get(url, headers=admin)).json()["pipeline_retries"] == 0
