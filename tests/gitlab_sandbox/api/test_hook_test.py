"""``POST /projects/:id/hooks/:hook_id/test/:trigger``: a test delivery sent at once, its
outcome in the answer (GitLab 17.1+)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from tests.gitlab_sandbox.api.conftest import scenario

P = "/projects/acme%2Fapp"


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), json.loads(body)))
        self.send_response(Receiver.status)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """One sandbox for the module: each test adds its own hooks."""
    with run_sandbox(scenario(), clock_speed=20) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.status = [], 200
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _api(sandbox: RunningSandbox, method: str, path: str, **body: object) -> httpx.Response:
    headers = {"PRIVATE-TOKEN": sandbox.token_for("bob")}  # a maintainer
    return httpx.request(method, sandbox.api_url + path, json=body or None, headers=headers)


def _hook(sandbox: RunningSandbox, url: str) -> int:
    created = _api(sandbox, "POST", f"{P}/hooks", url=url, token="s3cret", push_events=False)
    assert created.status_code == 201, created.text
    hook_id: int = created.json()["id"]
    return hook_id


def test_a_push_test_reaches_the_receiver_with_the_hooks_token(
    sandbox: RunningSandbox, receiver: str
) -> None:
    hook = _hook(sandbox, receiver)
    answer = _api(sandbox, "POST", f"{P}/hooks/{hook}/test/push_events")
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"message": "201 Created"}
    ((headers, payload),) = Receiver.received  # sent although the hook skips push events
    assert headers["X-Gitlab-Event"] == "Push Hook"
    assert headers["X-Gitlab-Token"] == "s3cret"
    assert payload["object_kind"] == "push"
    assert payload["ref"] == "refs/heads/main"
    assert payload["project"]["path_with_namespace"] == "acme/app"


def test_a_receiver_that_refuses_or_cannot_be_reached_is_a_422_with_why(
    sandbox: RunningSandbox, receiver: str
) -> None:
    Receiver.status = 401
    refused = _api(sandbox, "POST", f"{P}/hooks/{_hook(sandbox, receiver)}/test/push_events")
    assert refused.status_code == 422
    assert refused.json()["message"] == "Hook execution failed: HTTP 401"
    nobody = _hook(sandbox, "http://127.0.0.1:9/nobody-listens")
    unreachable = _api(sandbox, "POST", f"{P}/hooks/{nobody}/test/push_events")
    assert unreachable.status_code == 422
    assert unreachable.json()["message"].startswith("Hook execution failed: ConnectError")


def test_unknown_hooks_triggers_and_callers_are_refused(
    sandbox: RunningSandbox, receiver: str
) -> None:
    hook = _hook(sandbox, receiver)
    assert _api(sandbox, "POST", f"{P}/hooks/999/test/push_events").status_code == 404
    assert _api(sandbox, "POST", f"{P}/hooks/{hook}/test/bogus_events").status_code == 400
    other = _api(sandbox, "POST", f"{P}/hooks/{hook}/test/merge_requests_events")
    assert other.status_code == 422
    developer = httpx.post(
        f"{sandbox.api_url}{P}/hooks/{hook}/test/push_events",
        headers={"PRIVATE-TOKEN": sandbox.token_for("alice")},
    )
    assert developer.status_code == 403
    assert Receiver.received == []
