"""The onboarding check against the GitLab sandbox over HTTP: a good project, then each thing
that makes a first MR wait forever (bad token, not a member, no hook, hook URL wrong, GitLab
cannot reach us, "pipelines must succeed" off)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.kit.settings import Settings
from merge_assist.projects.check_rules import CheckResult
from merge_assist.projects.cli import format_report
from merge_assist.projects.onboarding_check import OnboardingReport
from tests.conftest import MakeAccount
from tests.projects.conftest import sandbox_hooks
from tests.sandbox_product import BOT_TOKEN_VARIABLE, sandbox_settings


@pytest.fixture
def listener_socket() -> Iterator[socket.socket]:
    """Our address; nothing answers there unless a test asks for ``listener``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    sandbox: RunningSandbox,
    listener_socket: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    return sandbox_settings(
        database_url,
        tmp_path,
        sandbox,
        monkeypatch,
        public_url=f"http://127.0.0.1:{listener_socket.getsockname()[1]}",
    )


@pytest.fixture
async def listener(app: object, listener_socket: socket.socket) -> AsyncIterator[None]:
    """The app served on our address: the sandbox's test delivery reaches it."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener_socket]))
    while not server.started:
        assert not serving.done(), "the listener did not start"
        await asyncio.sleep(0.01)
    yield
    server.should_exit = True
    await serving


async def onboarded(
    client: httpx.AsyncClient, admin: dict[str, str], sandbox: RunningSandbox, path: str
) -> int:
    answer = await client.post("/api/projects", json={"gitlab_project": path}, headers=admin)
    assert answer.status_code == 201, answer.text
    project = sandbox.sandbox.store.project_by_ref(path)
    assert project is not None
    project.settings.only_allow_merge_if_pipeline_succeeds = True
    project_id: int = answer.json()["id"]
    return project_id


async def check(
    client: httpx.AsyncClient, admin: dict[str, str], project_id: int
) -> dict[str, dict[str, Any]]:
    answer = await client.post(f"/api/projects/{project_id}/check", headers=admin)
    assert answer.status_code == 200, answer.text
    return {line["name"]: line for line in answer.json()["checks"]}


@pytest.mark.usefixtures("listener")
async def test_a_good_project_passes_every_check_and_its_test_delivery_reaches_us(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    answer = await client.post(f"/api/projects/{project_id}/check", headers=admin)
    report = answer.json()
    assert report["ok"] is True
    assert report["bot_username"] == "marge-bot"
    lines = {line["name"]: line for line in report["checks"]}
    assert {name: line["status"] for name, line in lines.items()} == {
        "bot token": "ok",
        "token scopes": "ok",
        "bot membership": "ok",
        "pipelines must succeed": "ok",
        "merge method": "ok",
        "target branch main": "ok",
        "webhook": "ok",
        "test delivery": "ok",
    }
    assert "Maintainer of acme/webapp" in lines["bot membership"]["sentence"]
    assert "reached us" in lines["test delivery"]["sentence"]

    (hook,) = sandbox_hooks(sandbox, "acme/webapp")
    hook.token = "not-the-secret-we-hold"  # edited by hand in GitLab
    lines = await check(client, admin, project_id)
    assert lines["webhook"]["status"] == "ok"
    assert lines["test delivery"]["status"] == "failing"
    assert "but we refused the delivery: its secret token" in lines["test delivery"]["sentence"]


async def test_a_refused_bot_token_is_the_first_and_only_line(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    monkeypatch.setenv(BOT_TOKEN_VARIABLE, "glpat-not-a-token-of-the-sandbox")
    lines = await check(client, admin, project_id)
    assert list(lines) == ["bot token"]
    assert lines["bot token"]["status"] == "failing"
    assert "merge-assist secrets set gitlab-bot-token" in lines["bot token"]["fix"]


async def test_a_bot_that_is_no_member_fails_with_how_to_invite_it(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    bot = sandbox.sandbox.store.user_by_username("marge-bot")
    assert project is not None
    assert bot is not None
    del project.members[bot.id]  # a private project: GitLab hides it from non-members
    lines = await check(client, admin, project_id)
    assert lines["project"]["status"] == "failing"
    assert lines["project"]["sentence"] == (
        "GitLab does not show the project 'acme/webapp' to the bot user marge-bot."
    )
    assert "invite marge-bot to the project as Maintainer" in lines["project"]["fix"]


async def test_a_reporter_bot_may_not_merge_and_a_developer_one_is_a_warning(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    bot = sandbox.sandbox.store.user_by_username("marge-bot")
    assert project is not None
    assert bot is not None
    project.members[bot.id] = 20
    lines = await check(client, admin, project_id)
    assert lines["bot membership"]["status"] == "failing"
    assert "is Reporter of acme/webapp: it may not merge" in lines["bot membership"]["sentence"]
    assert "make marge-bot Maintainer" in lines["bot membership"]["fix"]

    project.members[bot.id] = 30
    lines = await check(client, admin, project_id)
    assert lines["bot membership"]["status"] == "warning"
    assert lines["webhook"]["status"] == "warning"  # a Developer may not read the hooks


async def test_a_hook_sending_elsewhere_then_a_deleted_hook_fail(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,
    settings: Settings,
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    (hook,) = sandbox_hooks(sandbox, "acme/webapp")
    hook.url = "http://old-server.example/webhook/gitlab"
    lines = await check(client, admin, project_id)
    assert lines["webhook"]["status"] == "failing"
    assert "http://old-server.example/webhook/gitlab" in lines["webhook"]["sentence"]
    assert settings.effective_public_url in lines["webhook"]["sentence"]
    assert "MERGE_ASSIST_PUBLIC_URL" in lines["webhook"]["fix"]
    assert "test delivery" not in lines

    project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    assert project is not None
    project.hooks.clear()
    lines = await check(client, admin, project_id)
    assert lines["webhook"]["status"] == "failing"
    assert lines["webhook"]["sentence"] == "The project has no webhook of ours."
    assert "test delivery" not in lines


async def test_when_gitlab_cannot_reach_us_the_test_delivery_says_so(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,
    settings: Settings,
) -> None:
    admin = await make_account("ada", "admin")  # no listener: nothing answers at our address
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    answer = await client.post(f"/api/projects/{project_id}/check", headers=admin)
    report = answer.json()
    lines = {line["name"]: line for line in report["checks"]}
    assert report["ok"] is False
    assert lines["webhook"]["status"] == "ok"
    delivery = lines["test delivery"]
    assert delivery["status"] == "failing"
    url = f"{settings.effective_public_url}/webhook/gitlab"
    assert delivery["sentence"].startswith(f"GitLab could not reach {url}")


async def test_pipelines_must_succeed_off_is_a_warning_with_where_to_turn_it_on(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    assert project is not None
    project.settings.only_allow_merge_if_pipeline_succeeds = False
    project.settings.merge_method = "ff"
    lines = await check(client, admin, project_id)
    assert lines["pipelines must succeed"]["status"] == "warning"
    assert "Merge checks" in lines["pipelines must succeed"]["fix"]
    assert lines["merge method"]["sentence"] == "GitLab merges acme/webapp by ff."


async def test_a_member_who_may_not_manage_the_project_is_refused(
    client: httpx.AsyncClient, make_account: MakeAccount, sandbox: RunningSandbox
) -> None:
    admin = await make_account("ada", "admin")
    project_id = await onboarded(client, admin, sandbox, "acme/webapp")
    member = await make_account("bob", "member")
    answer = await client.post(f"/api/projects/{project_id}/check", headers=member)
    assert answer.status_code in (403, 404)
    assert answer.json()["detail"]


def test_the_report_reads_as_lines_with_the_fixes() -> None:
    report = OnboardingReport(
        "acme/webapp",
        "marge-bot",
        [
            CheckResult("bot token", "ok", "The bot token belongs to marge-bot."),
            CheckResult("webhook", "failing", "The project has no webhook of ours.", "Add it."),
        ],
    )
    text = format_report(report)
    assert text.splitlines()[0] == "Checking acme/webapp as marge-bot:"
    assert "  failing  webhook    The project has no webhook of ours." in text
    assert "fix: Add it." in text
    assert text.splitlines()[-1] == "1 failing (1 failing, 0 warnings)"
