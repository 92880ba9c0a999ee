"""``GET /api/health/webhooks``: our hook read back from the GitLab sandbox, whose hooks API
shows GitLab's auto-disabling (``app/models/concerns/web_hooks/auto_disabling.rb``)."""

from __future__ import annotations

import socket

import gitlab
import httpx

from gitlab_sandbox.testing import RunningSandbox
from tests.conftest import MakeAccount
from tests.projects.conftest import sandbox, sandbox_hooks, settings  # noqa: F401 - fixtures


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once closed


async def test_health_says_when_gitlab_disabled_or_lost_the_hook(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,  # noqa: F811 - the fixture imported above
) -> None:
    admin = await make_account("ada", "admin")
    sandbox.seed(
        {
            "merge_requests": [
                {
                    "project": "acme/webapp",
                    "source_branch": "topic",
                    "title": "Topic",
                    "author": "alice",
                    "files": {"topic.txt": "t\n"},
                }
            ]
        }
    )
    onboarded = await client.post(
        "/api/projects", json={"gitlab_project": "acme/webapp"}, headers=admin
    )
    assert onboarded.status_code == 201, onboarded.text
    project_id = onboarded.json()["id"]

    healthy = await client.get("/api/health/webhooks", headers=admin)
    assert healthy.status_code == 200, healthy.text
    [row] = healthy.json()
    assert (row["project_id"], row["state"], row["problem"]) == (project_id, "executable", None)

    # GitLab cannot reach us: every delivery fails, the 4th disables the hook for a while.
    [hook] = sandbox_hooks(sandbox, "acme/webapp")
    hook.url = f"http://127.0.0.1:{_closed_port()}/webhook/gitlab"
    mr = (
        gitlab.Gitlab(sandbox.url, private_token=sandbox.token_for("alice"))
        .projects.get("acme/webapp")
        .mergerequests.get(1)
    )
    for n in range(4):
        mr.notes.create({"body": f"ping {n}"})
        sandbox.wait_idle()
    [row] = (await client.get("/api/health/webhooks", headers=admin)).json()
    assert row["state"] == "temporarily_disabled"
    assert row["disabled_until"] is not None
    assert "stopped sending events" in row["problem"]
    assert "reconcile" in row["problem"]

    hook.health.recent_failures = 40  # as after 40 failures in a row (the sandbox's own tests)
    [row] = (await client.get("/api/health/webhooks", headers=admin)).json()
    assert row["state"] == "disabled"
    assert "40 failed deliveries" in row["problem"]

    gitlab_project = sandbox.sandbox.store.project_by_ref("acme/webapp")
    assert gitlab_project is not None
    gitlab_project.hooks.clear()  # someone deleted it in GitLab
    [row] = (await client.get("/api/health/webhooks", headers=admin)).json()
    assert row["state"] == "missing"
    assert "deleted in GitLab" in row["problem"]


async def test_webhook_health_needs_a_signed_in_user_and_lists_only_visible_projects(
    client: httpx.AsyncClient,
    make_account: MakeAccount,
    sandbox: RunningSandbox,  # noqa: F811 - the fixture imported above
) -> None:
    assert (await client.get("/api/health/webhooks")).status_code == 401
    nobody = await make_account("nora")
    response = await client.get("/api/health/webhooks", headers=nobody)
    assert response.status_code == 200
    assert response.json() == []
