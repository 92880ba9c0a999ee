"""Reviewer states, ``requested_changes`` and the approval webhook actions.

Sources: ``MergeRequestReviewer`` states and ``GET .../reviewers``
(``doc/api/merge_requests.md``, ``lib/api/entities/merge_request_reviewer.rb``),
``app/services/merge_requests/mergeability/check_requested_changes_service.rb``, and
``ee/app/services/ee/merge_requests/execute_approval_hooks_service.rb`` /
``remove_approval_service.rb`` (``approval`` while approvals are left, ``approved`` when none
is; ``unapproved`` when the MR stops being approved, ``unapproval`` otherwise).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox
from tests.gitlab_sandbox.workflows.conftest import api, workflow_scenario


@pytest.fixture
def actions() -> Iterator[tuple[str, list[str]]]:
    """A webhook receiver keeping the MR hooks' ``object_attributes.action``."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body["object_attributes"]["action"])
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


def _scenario() -> dict[str, Any]:
    scenario = workflow_scenario(approvals_before_merge=2)
    scenario["users"].append({"username": "rita"})
    project = scenario["projects"][0]
    project["members"]["rita"] = "developer"
    project["merge_requests"][0]["reviewers"] = ["lead", "rita"]
    return scenario


def test_requested_changes_block_until_the_reviewer_approves(
    make_sandbox: Callable[..., RunningSandbox],
) -> None:
    sandbox = make_sandbox(_scenario())
    project = api(sandbox, "dev").projects.get("team/svc")
    reviewers = f"{sandbox.api_url}/projects/{project.id}/merge_requests/1/reviewers"
    headers = {"PRIVATE-TOKEN": sandbox.token_for("dev")}

    def states() -> dict[str, str]:
        answer = httpx.get(reviewers, headers=headers)
        assert answer.status_code == 200
        return {row["user"]["username"]: row["state"] for row in answer.json()}

    assert states() == {"lead": "unreviewed", "rita": "unreviewed"}
    sandbox.admin(
        "POST",
        "projects/team/svc/merge_requests/1/review",
        {"username": "rita", "state": "requested_changes"},
    )
    assert states()["rita"] == "requested_changes"
    api(sandbox, "lead").projects.get("team/svc").mergerequests.get(1).approve()
    api(sandbox, "root").projects.get("team/svc").mergerequests.get(1).approve()
    sandbox.wait_until(
        lambda: project.mergerequests.get(1).detailed_merge_status != "checking", what="checks"
    )
    # Two approvals given: what still blocks is rita's request for changes.
    assert project.mergerequests.get(1).detailed_merge_status == "requested_changes"
    api(sandbox, "rita").projects.get("team/svc").mergerequests.get(1).approve()
    assert states() == {"lead": "approved", "rita": "approved"}
    assert project.mergerequests.get(1).detailed_merge_status != "requested_changes"


def test_approval_hook_actions_follow_the_approval_state(
    make_sandbox: Callable[..., RunningSandbox], actions: tuple[str, list[str]]
) -> None:
    url, received = actions
    sandbox = make_sandbox(_scenario())
    api(sandbox, "lead").projects.get("team/svc").hooks.create(
        {"url": url, "merge_requests_events": True, "push_events": False}
    )

    def act(username: str, verb: str) -> None:
        getattr(api(sandbox, username).projects.get("team/svc").mergerequests.get(1), verb)()
        sandbox.wait_idle()

    act("lead", "approve")  # 1 of 2
    act("rita", "approve")  # 2 of 2: approved
    act("rita", "unapprove")  # no longer approved
    act("lead", "unapprove")  # was not approved either
    assert received == ["approval", "approved", "unapproved", "unapproval"]
