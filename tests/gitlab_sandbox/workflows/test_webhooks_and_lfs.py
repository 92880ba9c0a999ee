"""Webhooks reach a real HTTP receiver; LFS locks conflict as the Git LFS spec says."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import GitClone, api, workflow_scenario

Received = list[tuple[dict[str, str], dict[str, Any]]]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    received: Received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers.items()), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_webhooks_arrive_with_gitlab_headers(
    make_sandbox: Callable[..., RunningSandbox],
    clone: Callable[..., GitClone],
    receiver: tuple[str, Received],
) -> None:
    url, received = receiver
    sandbox = make_sandbox(workflow_scenario())
    project = api(sandbox, "lead").projects.get("team/svc")
    project.hooks.create(
        {
            "url": url,
            "token": "s3cret",
            "push_events": True,
            "merge_requests_events": True,
            "note_events": True,
            "pipeline_events": True,
        }
    )
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    old = work.rev("HEAD")
    work.commit_file("hooked.txt", "h\n", "Hooked")
    work.git("push", "-q", "origin", "feature")
    project.mergerequests.get(1).notes.create({"body": "hi"})
    sandbox.wait_for_pipelines()
    sandbox.wait_until(
        lambda: (
            {"Push Hook", "Merge Request Hook", "Note Hook", "Pipeline Hook"}
            <= {h["X-Gitlab-Event"] for h, _ in received}
        ),
        what="the webhooks",
    )
    for headers, _ in received:
        assert headers["X-Gitlab-Token"] == "s3cret"
        assert headers["X-Gitlab-Event-UUID"]
        assert headers["Idempotency-Key"]
        assert headers["User-Agent"].startswith("GitLab/")
    update = next(b for h, b in received if h["X-Gitlab-Event"] == "Merge Request Hook")
    assert update["object_attributes"]["action"] == "update"
    assert update["object_attributes"]["oldrev"] == old
    push = next(b for h, b in received if h["X-Gitlab-Event"] == "Push Hook")
    assert push["ref"] == "refs/heads/feature"
    assert push["before"] == old
    # web_hook_service.rb: X-Gitlab-Webhook-UUID is random per request; X-Gitlab-Event-UUID
    # is the triggering request's, so the push's Push Hook and MR update share it.
    assert len({h["X-Gitlab-Webhook-UUID"] for h, _ in received}) == len(received)
    assert len({h["Idempotency-Key"] for h, _ in received}) == len(received)
    push_uuid = next(
        h["X-Gitlab-Event-UUID"] for h, _ in received if h["X-Gitlab-Event"] == "Push Hook"
    )
    update_uuid = next(
        h["X-Gitlab-Event-UUID"]
        for h, b in received
        if h["X-Gitlab-Event"] == "Merge Request Hook"
        and b["object_attributes"]["action"] == "update"
    )
    note_uuid = next(
        h["X-Gitlab-Event-UUID"] for h, _ in received if h["X-Gitlab-Event"] == "Note Hook"
    )
    assert push_uuid == update_uuid != note_uuid


def test_a_failing_hook_is_disabled_and_the_hooks_api_says_so(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    """``web_hooks/auto_disabling.rb``: from the 4th failure in a row the hook is temporarily
    disabled; ``API::Entities::Hook`` (``lib/api/entities/hook.rb``) shows ``alert_status``
    and ``disabled_until``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    sandbox = make_sandbox(workflow_scenario())
    project = api(sandbox, "lead").projects.get("team/svc")
    hook = project.hooks.create(
        {"url": f"http://127.0.0.1:{port}/hook", "note_events": True, "push_events": False}
    )
    assert (hook.alert_status, hook.disabled_until) == ("executable", None)
    mr = project.mergerequests.get(1)
    for n in range(5):
        mr.notes.create({"body": f"note {n}"})
        sandbox.wait_idle()
    shown = project.hooks.get(hook.id)
    assert shown.alert_status == "temporarily_disabled"
    assert shown.disabled_until is not None
    statuses = [d["status"] for d in sandbox.admin("GET", "hooks/deliveries")]
    assert statuses == ["failed"] * 4 + ["disabled"]


def _lfs(sandbox: RunningSandbox, username: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{sandbox.url}/team/svc.git/info/lfs",
        auth=("oauth2", sandbox.token_for(username)),
        headers={"Accept": "application/vnd.git-lfs+json"},
    )


def test_lfs_locks_conflict_and_unlock(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(workflow_scenario())
    with _lfs(sandbox, "dev") as dev, _lfs(sandbox, "lead") as lead:
        created = dev.post("/locks", json={"path": "art/model.bin"})
        assert created.status_code == 201
        assert created.headers["content-type"].startswith("application/vnd.git-lfs+json")
        lock = created.json()["lock"]
        assert lock["owner"]["name"] == "Dev"
        held = lead.post("/locks", json={"path": "art/model.bin"})
        assert held.status_code == 409
        assert held.json()["lock"]["id"] == lock["id"]
        verify = lead.post("/locks/verify", json={})
        assert verify.json()["theirs"][0]["path"] == "art/model.bin"
        assert verify.json()["ours"] == []
        listed = dev.get("/locks", params={"path": "art/model.bin"}).json()["locks"]
        assert [item["id"] for item in listed] == [lock["id"]]
        refused = lead.post(f"/locks/{lock['id']}/unlock", json={})
        assert refused.status_code == 403
        forced = lead.post(f"/locks/{lock['id']}/unlock", json={"force": True})
        assert forced.status_code == 200
        assert dev.get("/locks").json()["locks"] == []


def test_lfs_requires_credentials(make_sandbox: Callable[..., RunningSandbox]) -> None:
    sandbox = make_sandbox(workflow_scenario())
    response = httpx.get(f"{sandbox.url}/team/svc.git/info/lfs/locks")
    assert response.status_code == 401
    assert "Basic" in response.headers["LFS-Authenticate"]


def test_a_path_locked_in_lfs_by_someone_else_cannot_be_pushed(
    make_sandbox: Callable[..., RunningSandbox], clone: Callable[..., GitClone]
) -> None:
    """``lib/gitlab/checks/diff_check.rb`` (``lfs_file_locks_validation``): a push whose new
    commits change a path another user locked is refused, ``'<path>' is locked in Git LFS by
    @<user>``; the lock holder may push it, and other paths go through."""
    sandbox = make_sandbox(workflow_scenario())
    with _lfs(sandbox, "lead") as lead:
        assert lead.post("/locks", json={"path": "app.py"}).status_code == 201
    work = clone(sandbox, "dev", "team/svc")
    work.git("checkout", "-q", "feature")
    before = work.rev("origin/feature")
    work.commit_file("app.py", "changed\n", "Change a locked file")
    refused = work.git("push", "origin", "feature", check=False)
    assert refused.returncode != 0
    assert "GitLab: 'app.py' is locked in Git LFS by @lead" in refused.stderr
    assert "pre-receive hook declined" in refused.stderr
    assert api(sandbox, "dev").projects.get("team/svc").branches.get("feature").commit["id"] == (
        before
    )
    work.git("reset", "-q", "--hard", before)
    work.commit_file("free.txt", "free\n", "Change a free file")
    assert work.git("push", "-q", "origin", "feature", check=False).returncode == 0
    holder = clone(sandbox, "lead", "team/svc")
    holder.git("checkout", "-q", "feature")
    holder.commit_file("app.py", "mine\n", "The holder changes it")
    assert holder.git("push", "-q", "origin", "feature", check=False).returncode == 0
