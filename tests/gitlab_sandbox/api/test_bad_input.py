"""Bad input gets a 4xx with a readable message, never a 500."""

from __future__ import annotations

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox

P = "/projects/acme%2Fapp"
BAD_CALLS = [
    ("GET", "/projects/999/merge_requests", None),
    ("GET", f"{P}/merge_requests/abc", None),
    ("GET", f"{P}/merge_requests/99", None),
    ("GET", f"{P}/merge_requests", {"state": "weird"}),
    ("GET", f"{P}/merge_requests?order_by=nonsense", None),
    ("GET", f"{P}/merge_requests?updated_after=yesterday", None),
    (
        "POST",
        f"{P}/merge_requests",
        {"source_branch": "nope", "target_branch": "main", "title": "x"},
    ),
    (
        "POST",
        f"{P}/merge_requests",
        {"source_branch": "feature-a", "target_branch": "feature-a", "title": "x"},
    ),
    ("POST", f"{P}/repository/commits", {"branch": "x", "commit_message": "m", "actions": "nope"}),
    (
        "POST",
        f"{P}/repository/commits",
        {"branch": "x", "commit_message": "m", "actions": [{"action": "fly"}]},
    ),
    (
        "POST",
        f"{P}/repository/commits",
        {
            "branch": "feature-a",
            "commit_message": "m",
            "actions": [{"action": "update", "file_path": "nope.txt", "content": "x"}],
        },
    ),
    ("POST", f"{P}/repository/branches", {"branch": "bad..name", "ref": "main"}),
    ("POST", f"{P}/repository/branches", {"branch": "ok", "ref": "no-such-ref"}),
    ("GET", f"{P}/repository/files/nope.txt?ref=main", None),
    ("GET", f"{P}/repository/files/README.md?ref=no-such-ref", None),
    ("GET", f"{P}/repository/commits/zzzz", None),
    ("GET", f"{P}/repository/compare?from=main&to=nope", None),
    ("PUT", f"{P}", {"merge_method": "octopus"}),
    ("PUT", f"{P}/merge_requests/1", {}),
    ("PUT", f"{P}/merge_requests/1", {"state_event": "explode"}),
    ("PUT", f"{P}/merge_requests/1", {"target_branch": "nope"}),
    ("POST", f"{P}/merge_requests/1/notes", {"body": ""}),
    ("PUT", f"{P}/merge_requests/1/discussions/nope", {"resolved": True}),
    ("GET", f"{P}/pipelines/999", None),
    ("GET", f"{P}/jobs/999/trace", None),
    ("POST", f"{P}/hooks", {"url": "ftp://x"}),
    ("GET", "/no/such/route", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_CALLS)
def test_bad_calls_get_a_4xx_with_a_message(
    sandbox: RunningSandbox, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = httpx.request(
        method,
        sandbox.api_url + path,
        json=body if method != "GET" else None,
        params=body if method == "GET" else None,
        headers={"PRIVATE-TOKEN": sandbox.token_for("bob")},
    )
    assert 400 <= response.status_code < 500, response.text
    payload = response.json()
    assert payload.get("message") or payload.get("error")


def test_malformed_json_body_is_a_400(sandbox: RunningSandbox) -> None:
    response = httpx.post(
        f"{sandbox.api_url}{P}/merge_requests",
        content=b"{not json",
        headers={"PRIVATE-TOKEN": sandbox.token_for("bob"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
