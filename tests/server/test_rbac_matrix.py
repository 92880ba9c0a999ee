"""Every route x every role, on another project's ids: the route table decides, not memory.

The routes come from the app itself (``app.routes``); ``RULES`` says, for each, who may use it
on project B, the project nobody in the test was given rights to (the project owner and the
role-less user have permissions on project A only). A route missing from ``RULES`` fails the
test, so a new route cannot be forgotten. Callers not allowed get 401, 403 or 404 (never a
2xx, never a 5xx); callers allowed are not refused by authorisation (no 401/403) and get no
5xx. Requests that change things run allowed callers last, destructive routes at the very end.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import routing
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Mount

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.projects import permissions
from merge_assist.projects.schemas import PermissionGrant
from merge_assist.projects.service import Actor
from tests.conftest import MakeAccount
from tests.merging.api.queue_rows import add_mr, add_project


class Who(enum.Enum):
    """Who may use a route on project B's ids (admin always may, except ``nobody``)."""

    anyone = "anyone, signed in or not"
    signed_in = "any signed-in user, with or without a role"
    any_role = "any global role (sees every active project)"
    writer = "member, priority_manager, project_owner"
    priority = "priority_manager (or can_set_priority on the project)"
    admin = "admin only (the project owner manages project A, not B)"
    nobody = "nobody: the ids belong to another user"


CALLERS = ("anonymous", "admin", "project_owner", "priority_manager", "member", "viewer", "norole")
ALLOWED: dict[Who, frozenset[str]] = {
    Who.anyone: frozenset(CALLERS),
    Who.signed_in: frozenset(CALLERS) - {"anonymous"},
    Who.any_role: frozenset(CALLERS) - {"anonymous", "norole"},
    Who.writer: frozenset({"admin", "project_owner", "priority_manager", "member"}),
    Who.priority: frozenset({"admin", "priority_manager"}),
    Who.admin: frozenset({"admin"}),
    Who.nobody: frozenset(),
}


@dataclass(frozen=True)
class World:
    """Project B's ids and what belongs to another user."""

    project: int
    mr: int
    file: int
    victim: int
    message: int


Body = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    who: Who
    request: Body = field(default=lambda _w: {})
    last: int = 0  # destructive routes run after the others, in this order


def _json(value: Any) -> Body:
    return lambda _w: {"json": value}


def _upload(_w: World) -> dict[str, Any]:
    return {
        "files": {"file": ("rbac.nc", b"rbac")},
        "data": {"name": f"rbac-{uuid.uuid4().hex[:8]}.nc"},
    }


def _checkin(_w: World) -> dict[str, Any]:
    return {"files": {"file": ("rbac.nc", b"new")}, "data": {"base_version": "1"}}


def _new_user(_w: World) -> dict[str, Any]:
    name = f"rbac-{uuid.uuid4().hex[:8]}"
    return {"json": {"username": name, "password": "rbac-password-long-enough"}}


VAULT = "/api/vault/{vault}/files/{file_id}"
RULES: dict[tuple[str, str], Rule] = {
    # FastAPI's own documents and the service's probes
    ("GET", "/openapi.json"): Rule(Who.anyone),
    ("GET", "/docs"): Rule(Who.anyone),
    ("GET", "/docs/oauth2-redirect"): Rule(Who.anyone),
    ("GET", "/redoc"): Rule(Who.anyone),
    ("GET", "/api/health"): Rule(Who.anyone),
    ("GET", "/api/health/ready"): Rule(Who.anyone),
    ("GET", "/metrics"): Rule(Who.anyone),
    ("GET", "/api/config"): Rule(Who.anyone),
    ("GET", "/api/health/status"): Rule(Who.signed_in),
    ("GET", "/api/health/alerts"): Rule(Who.admin),
    ("GET", "/api/health/alerts/settings"): Rule(Who.admin),
    ("PUT", "/api/health/alerts/settings"): Rule(Who.admin, _json({"stuck_after_minutes": 90})),
    ("POST", "/api/health/alerts/test"): Rule(Who.admin),  # 422 with no channel turned on
    ("GET", "/api/health/webhooks"): Rule(Who.signed_in),
    # sign-in (the credentials are wrong: the answer is a refusal, never a 5xx)
    ("POST", "/api/auth/login"): Rule(Who.anyone, _json({"username": "x", "password": "y"})),
    ("POST", "/api/auth/login-gitlab"): Rule(Who.anyone, _json({"token": "not-a-token"})),
    ("POST", "/api/auth/refresh"): Rule(Who.anyone, _json({"refresh_token": "not-a-token"})),
    ("POST", "/api/auth/logout"): Rule(Who.anyone, _json({"refresh_token": "not-a-token"}), last=1),
    ("POST", "/api/auth/logout-all"): Rule(Who.signed_in, last=2),  # may end the callers' tokens
    ("GET", "/api/auth/me"): Rule(Who.signed_in),
    ("DELETE", "/api/auth/gitlab-token"): Rule(Who.signed_in),  # forgets the caller's own
    # users
    ("GET", "/api/users"): Rule(Who.admin),
    ("POST", "/api/users"): Rule(Who.admin, _new_user),
    ("GET", "/api/users/{user_id}"): Rule(Who.admin),
    ("PATCH", "/api/users/{user_id}"): Rule(Who.admin, _json({"display_name": "Renamed"})),
    ("POST", "/api/users/{user_id}/deactivate"): Rule(Who.admin, last=1),
    ("GET", "/api/audit"): Rule(Who.admin),
    ("GET", "/api/audit/export"): Rule(Who.admin),
    # projects
    ("POST", "/api/projects"): Rule(Who.admin, _json({"gitlab_project": 424242})),
    ("GET", "/api/projects"): Rule(Who.signed_in),
    ("GET", "/api/projects/{project_id}"): Rule(Who.any_role),
    ("DELETE", "/api/projects/{project_id}"): Rule(Who.admin, last=1),
    ("GET", "/api/projects/{project_id}/config"): Rule(Who.any_role),
    ("PUT", "/api/projects/{project_id}/config"): Rule(Who.admin, _json({"batch_size": 4})),
    ("POST", "/api/projects/{project_id}/check"): Rule(Who.admin),
    ("GET", "/api/projects/{project_id}/permissions"): Rule(Who.admin),
    ("PUT", "/api/projects/{project_id}/permissions"): Rule(
        Who.admin, lambda w: {"json": {"user_id": w.victim, "can_set_priority": True}}
    ),
    # the merge queue
    ("GET", "/api/projects/{project_id}/mrs"): Rule(Who.any_role),
    ("GET", "/api/mrs/{mr_id}"): Rule(Who.any_role),
    ("GET", "/api/mrs/{mr_id}/explanation"): Rule(Who.any_role),
    ("GET", "/api/assistant/settings"): Rule(Who.admin),
    ("PUT", "/api/assistant/settings"): Rule(Who.admin, _json({"send_titles": True})),
    ("POST", "/api/mrs/{mr_id}/priority"): Rule(Who.priority, _json({"priority": 1})),
    ("GET", "/api/projects/{project_id}/batches"): Rule(Who.any_role),
    ("GET", "/api/projects/{project_id}/train"): Rule(Who.any_role),
    ("GET", "/api/logs"): Rule(Who.admin, lambda w: {"params": {"project_id": w.project}}),
    ("GET", "/api/projects/{project_id}/stats"): Rule(Who.any_role),
    ("GET", "/api/queue/activity"): Rule(Who.signed_in),
    # messages: the id is another user's message
    ("GET", "/api/messages"): Rule(Who.signed_in),
    ("GET", "/api/messages/unread-count"): Rule(Who.signed_in),
    ("POST", "/api/messages"): Rule(
        Who.writer, _json({"to": "victim", "subject": "hello", "body": "hello"})
    ),
    ("POST", "/api/messages/read-all"): Rule(Who.signed_in),
    ("GET", "/api/messages/{message_id}"): Rule(Who.nobody),
    ("POST", "/api/messages/{message_id}/read"): Rule(Who.nobody),
    ("DELETE", "/api/messages/{message_id}"): Rule(Who.nobody),
    # the vault (the default vault: bound to no project)
    ("GET", "/api/vault/vaults"): Rule(Who.signed_in),
    ("GET", "/api/vault/{vault}/files"): Rule(Who.signed_in),
    ("POST", "/api/vault/{vault}/files"): Rule(Who.writer, _upload),
    ("POST", "/api/vault/{vault}/sync"): Rule(Who.writer),
    ("GET", VAULT): Rule(Who.signed_in),
    ("GET", VAULT + "/content"): Rule(Who.signed_in),
    ("POST", VAULT + "/checkout"): Rule(Who.writer, _json({"reason": "rbac"})),
    ("POST", VAULT + "/checkin"): Rule(Who.writer, _checkin),
    ("POST", VAULT + "/undo-checkout"): Rule(Who.writer),
    ("POST", VAULT + "/force-unlock"): Rule(Who.admin, _json({"reason": "rbac"})),
    ("GET", VAULT + "/history"): Rule(Who.signed_in),
    ("GET", VAULT + "/diff"): Rule(Who.signed_in, lambda _w: {"params": {"from": 1, "to": 1}}),
    ("POST", VAULT + "/rollback"): Rule(Who.writer, _json({"version": 1})),
    # GitLab's webhook authenticates by its secret token, not by a user
    ("POST", "/webhook/gitlab"): Rule(Who.anyone, _json({"object_kind": "push"})),
}
# Routes not served over plain HTTP, each with where its access is tested.
NOT_HTTP: dict[str, str] = {
    "/api/ws/updates": "WebSocket: tests/server/test_updates.py signs it in",
}


def app_routes(app: Any) -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves, from its route table (HEAD goes with GET)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            continue  # the dashboard's static files, mounted last
        methods = sorted(getattr(context, "methods", None) or ())
        if not methods:
            yield "WEBSOCKET", context.path
        for method in methods:
            if method != "HEAD":
                yield method, context.path  # with the prefixes of the routers it is in


def _url(path: str, world: World) -> str:
    return path.format(
        project_id=world.project,
        mr_id=world.mr,
        user_id=world.victim,
        message_id=world.message,
        vault="default",
        file_id=world.file,
    )


BOT_TOKEN = "sandboxpat-rbac-bot-0a1b2c3d4e"


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    users = [
        {"username": "root", "admin": True},
        {
            "username": "bot",
            "bot": True,
            "tokens": [{"name": "b", "scopes": ["api"], "value": BOT_TOKEN}],
        },
    ]
    with run_sandbox({"users": users}, seed=0) as running:
        yield running


@pytest.fixture
def settings(
    settings: Settings, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", BOT_TOKEN)
    return settings.model_copy(update={"gitlab_url": sandbox.url, "gitlab_max_retries": 0})


async def _world(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    make_account: MakeAccount,
    headers: dict[str, dict[str, str]],
) -> World:
    project_a = await add_project(sessions, "acme/a")
    project_b = await add_project(sessions, "acme/b")
    mr = await add_mr(sessions, project_b, 1)
    victim = await make_account("victim", "member")
    other = await make_account("other", "member")
    sent = await client.post(
        "/api/messages", headers=victim, json={"to": "other", "subject": "s", "body": "b"}
    )
    assert sent.status_code == 201, sent.text
    inbox = (await client.get("/api/messages", headers=other)).json()
    uploaded = await client.post(
        "/api/vault/default/files", headers=headers["admin"], files={"file": ("b.nc", b"b")}
    )
    assert uploaded.status_code == 201, uploaded.text
    me = (await client.get("/api/auth/me", headers=victim)).json()
    owners = {"project_owner": (True, False), "norole": (False, True)}
    async with unit_of_work(sessions) as session:
        for caller, (manage, priority) in owners.items():
            user = (await client.get("/api/auth/me", headers=headers[caller])).json()
            grant = PermissionGrant(
                user_id=user["id"], can_manage=manage, can_set_priority=priority
            )
            await permissions.set_permission(session, Actor(id=None, name="test"), project_a, grant)
    items = inbox["items"] if isinstance(inbox, dict) else inbox
    return World(project_b, mr, uploaded.json()["id"], me["id"], items[0]["id"])


async def test_every_route_refuses_every_role_it_does_not_allow_on_another_projects_ids(
    app: Any,
    settings: Settings,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    make_account: MakeAccount,
) -> None:
    sockets = [path for method, path in app_routes(app) if method == "WEBSOCKET"]
    assert not set(sockets) - set(NOT_HTTP), "WebSocket routes missing from NOT_HTTP"
    served = [(m, p) for m, p in app_routes(app) if m != "WEBSOCKET"]
    missing = sorted(f"{m} {p}" for m, p in served if (m, p) not in RULES)
    assert not missing, f"routes without an access rule in RULES: {missing}"
    stale = sorted(f"{m} {p}" for m, p in RULES if (m, p) not in served)
    assert not stale, f"RULES names routes the app does not serve: {stale}"

    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for caller in CALLERS[1:-1]:
        headers[caller] = await make_account(f"rbac-{caller}", caller)
    headers["norole"] = await make_account("rbac-norole", no_roles=True)
    world = await _world(client, sessions, make_account, headers)

    problems: list[str] = []

    async def call(method: str, path: str, caller: str) -> None:
        rule = RULES[(method, path)]
        response = await client.request(
            method, _url(path, world), headers=headers[caller], **rule.request(world)
        )
        allowed = caller in ALLOWED[rule.who]
        status = response.status_code
        if status >= 500:
            problems.append(f"{method} {path} as {caller}: {status} {response.text[:200]}")
        elif not allowed and status not in (401, 403, 404):
            problems.append(f"{method} {path} as {caller} (not allowed): {status}")
        elif allowed and rule.who is not Who.anyone and status in (401, 403):
            problems.append(f"{method} {path} as {caller} (allowed): {status} {response.text}")

    ordered = sorted(served, key=lambda route: RULES[route].last)
    for method, path in ordered:  # every refusal first: nothing has changed yet
        for caller in CALLERS:
            if caller not in ALLOWED[RULES[(method, path)].who]:
                await call(method, path, caller)
    for method, path in ordered:
        for caller in CALLERS:
            if caller in ALLOWED[RULES[(method, path)].who]:
                await call(method, path, caller)
    assert not problems, "\n".join(problems)


def test_a_new_route_without_a_rule_is_noticed(app: Any) -> None:
    async def extra() -> dict[str, str]:
        return {}

    app.router.routes.insert(0, routing.APIRoute("/api/extra", extra, methods=["POST"]))
    assert ("POST", "/api/extra") in set(app_routes(app)) - set(RULES)
