"""Transport behaviour of the client against a real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from prometheus_client import REGISTRY

from merge_assist.gitlab import (
    GitLabAuthError,
    GitLabClient,
    GitLabConflict,
    GitLabError,
    GitLabForbidden,
    GitLabMergeFailed,
    GitLabNotFound,
    GitLabNotMergeable,
    GitLabRateLimited,
    GitLabTooManyPages,
    GitLabUnavailable,
    GitLabValidationError,
)
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.logging import JsonFormatter
from tests.gitlab.conftest import TOKEN, ScriptedGitLab, SleepRecorder

MR_PATH = "/api/v4/projects/7/merge_requests/3"


def mr_json(iid: int = 3, **fields: object) -> dict[str, object]:
    return {
        "id": 1000 + iid,
        "iid": iid,
        "project_id": 7,
        "title": f"MR {iid}",
        "source_branch": f"feature-{iid}",
        "target_branch": "main",
        "sha": "a" * 40,
        **fields,
    }


async def test_get_retries_500_502_503_then_succeeds(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    for status in (500, 502, 503):
        scripted.expect("GET", MR_PATH, status=status, json={"message": "boom"})
    scripted.expect("GET", MR_PATH, json=mr_json())

    mr = await gitlab.get_merge_request(7, 3)

    assert mr.iid == 3
    assert gitlab.calls["mr.get"] == 4
    assert len(sleeps.delays) == 3
    # exponential ceilings 0.01, 0.02, 0.04 with equal jitter: each wait in [ceiling/2, ceiling]
    for attempt, delay in enumerate(sleeps.delays):
        ceiling = 0.01 * 2**attempt
        assert ceiling / 2 <= delay <= ceiling


async def test_retry_after_in_seconds_is_honoured(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    scripted.expect("GET", MR_PATH, status=429, headers={"Retry-After": "1"}, json={})
    scripted.expect("GET", MR_PATH, json=mr_json())

    await gitlab.get_merge_request(7, 3)

    assert sleeps.delays == [1.0]


async def test_retry_after_as_http_date_is_honoured(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    scripted.expect("GET", MR_PATH, status=429, headers={"Retry-After": when}, json={})
    scripted.expect("GET", MR_PATH, json=mr_json())

    await gitlab.get_merge_request(7, 3)

    assert len(sleeps.delays) == 1
    assert 0 < sleeps.delays[0] <= 2


async def test_429_is_retried_even_for_a_note(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    """The rate limiter refuses before the endpoint runs, so no duplicate comment is possible."""
    scripted.expect("POST", MR_PATH + "/notes", status=429, headers={"Retry-After": "0"})
    scripted.expect("POST", MR_PATH + "/notes", status=201, json={"id": 5, "body": "hi"})

    note = await gitlab.create_note(7, 3, "hi")

    assert note.id == 5
    assert sleeps.delays == [0.0]


async def test_retry_after_beyond_the_cap_fails_fast(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    scripted.expect("GET", MR_PATH, status=429, headers={"Retry-After": "3600"}, json={})

    with pytest.raises(GitLabRateLimited) as caught:
        await gitlab.get_merge_request(7, 3)

    assert caught.value.retry_after == 3600
    assert isinstance(caught.value, GitLabUnavailable)
    assert sleeps.delays == []


async def test_retries_exhausted_raise_unavailable(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    for _ in range(4):  # max_retries=3 → 4 attempts
        scripted.expect("GET", MR_PATH, status=503, body=b"<html>down</html>")

    with pytest.raises(GitLabUnavailable) as caught:
        await gitlab.get_merge_request(7, 3)

    assert caught.value.status == 503
    assert caught.value.status_code == 503
    assert "after 4 attempts" in caught.value.message
    assert gitlab.calls["mr.get"] == 4


async def test_a_note_is_not_resent_after_a_server_error(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("POST", MR_PATH + "/notes", status=502, json={"message": "bad gateway"})

    with pytest.raises(GitLabUnavailable):
        await gitlab.create_note(7, 3, "hello")

    assert gitlab.calls["mr.note.create"] == 1


async def test_a_merge_is_not_resent_after_a_server_error(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("PUT", MR_PATH + "/merge", status=500, json={"message": "500 Internal"})

    with pytest.raises(GitLabUnavailable):
        await gitlab.merge_merge_request(7, 3, sha="a" * 40)

    assert gitlab.calls["mr.merge"] == 1


async def test_a_label_update_is_resent_after_a_server_error(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("PUT", MR_PATH, status=502)
    scripted.expect("PUT", MR_PATH, json=mr_json(labels=["Merge Assist: Ready to Merge"]))

    mr = await gitlab.update_merge_request(
        7,
        3,
        MergeRequestChanges(add_labels=["Merge Assist: Ready to Merge"], remove_labels=["x", "y"]),
    )

    assert mr.labels == ["Merge Assist: Ready to Merge"]
    body = scripted.received[-1].json()
    assert body == {"add_labels": "Merge Assist: Ready to Merge", "remove_labels": "x,y"}


async def test_a_merge_is_resent_when_it_never_reached_gitlab(sleeps: SleepRecorder) -> None:
    """Connection refused: GitLab cannot have merged, so even the merge is tried again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = GitLabClient(
        f"http://127.0.0.1:{closed_port}",
        TOKEN,
        retry=RetryPolicy(max_retries=2, backoff=0.01),
        sleep=sleeps,
    )
    async with client:
        with pytest.raises(GitLabUnavailable) as caught:
            await client.merge_merge_request(7, 3, sha="a" * 40)

    assert client.calls["mr.merge"] == 3
    assert "could not connect" in caught.value.message
    assert TOKEN not in caught.value.message


async def test_read_timeout_is_retried_for_reads(
    scripted: ScriptedGitLab, sleeps: SleepRecorder
) -> None:
    scripted.expect("GET", MR_PATH, json=mr_json(), delay=1.0)
    scripted.expect("GET", MR_PATH, json=mr_json(title="second answer"))
    client = GitLabClient(
        scripted.url,
        TOKEN,
        timeout=httpx.Timeout(5.0, read=0.2),
        retry=RetryPolicy(backoff=0.01),
        sleep=sleeps,
    )
    async with client:
        mr = await client.get_merge_request(7, 3)

    assert mr.title == "second answer"
    assert client.calls["mr.get"] == 2


async def test_read_timeout_is_not_retried_for_a_merge(
    scripted: ScriptedGitLab, sleeps: SleepRecorder
) -> None:
    scripted.expect("PUT", MR_PATH + "/merge", json=mr_json(state="merged"), delay=1.0)
    client = GitLabClient(
        scripted.url,
        TOKEN,
        timeout=httpx.Timeout(5.0, read=0.2),
        retry=RetryPolicy(backoff=0.01),
        sleep=sleeps,
    )
    async with client:
        with pytest.raises(GitLabUnavailable) as caught:
            await client.merge_merge_request(7, 3, sha="a" * 40)

    assert "timed out" in caught.value.message
    assert client.calls["mr.merge"] == 1


@pytest.mark.parametrize(
    ("status", "body", "error_class", "message"),
    [
        (404, {"message": "404 Project Not Found"}, GitLabNotFound, "404 Project Not Found."),
        (
            409,
            {"message": "SHA does not match HEAD of source branch: abc"},
            GitLabConflict,
            "SHA does not match HEAD of source branch: abc.",
        ),
        (405, {"message": "405 Method Not Allowed"}, GitLabNotMergeable, "405 Method Not Allowed."),
        (
            406,
            {"message": "Branch cannot be merged"},
            GitLabNotMergeable,
            "Branch cannot be merged.",
        ),
        # GitLab 16+ answers 422 when the merge itself failed (e.g. the target moved).
        (
            422,
            {"message": "Branch cannot be merged"},
            GitLabMergeFailed,
            "Branch cannot be merged.",
        ),
        (400, {"message": {"title": ["is too long"]}}, GitLabValidationError, "Title is too long."),
        (400, {"error": "labels is invalid"}, GitLabValidationError, "Labels is invalid."),
        (
            401,
            {"error": "invalid_token", "error_description": "Token was revoked"},
            GitLabAuthError,
            "Token was revoked.",
        ),
        (403, {"message": "403 Forbidden"}, GitLabForbidden, "403 Forbidden."),
    ],
)
async def test_refusals_are_typed_with_gitlabs_reason(
    scripted: ScriptedGitLab,
    gitlab: GitLabClient,
    status: int,
    body: object,
    error_class: type[GitLabError],
    message: str,
) -> None:
    scripted.expect("PUT", MR_PATH + "/merge", status=status, json=body)

    with pytest.raises(error_class) as caught:
        await gitlab.merge_merge_request(7, 3, sha="a" * 40)

    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert caught.value.message == message
    assert caught.value.operation == "mr.merge"
    assert gitlab.calls["mr.merge"] == 1


async def test_redirects_are_refused_not_followed(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("GET", MR_PATH, status=301, headers={"Location": "https://elsewhere/"})

    with pytest.raises(GitLabError, match="redirect"):
        await gitlab.get_merge_request(7, 3)


async def test_pagination_follows_next_page_across_three_pages(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    path = "/api/v4/projects/7/merge_requests"
    scripted.expect("GET", path, json=[mr_json(1), mr_json(2)], headers={"X-Next-Page": "2"})
    scripted.expect("GET", path, json=[mr_json(3)], headers={"X-Next-Page": "3"})
    scripted.expect("GET", path, json=[mr_json(4)], headers={"X-Next-Page": ""})

    mrs = await gitlab.list_merge_requests(7, MergeRequestQuery(assignee_id=42, labels=["a", "b"]))

    assert [mr.iid for mr in mrs] == [1, 2, 3, 4]
    pages = [r.query for r in scripted.received]
    assert [q["page"] for q in pages] == ["1", "2", "3"]
    assert all(q["per_page"] == "100" for q in pages)
    assert pages[0]["assignee_id"] == "42"
    assert pages[0]["labels"] == "a,b"
    assert pages[0]["state"] == "opened"
    assert gitlab.calls["mr.list"] == 3


async def test_pagination_stops_at_the_page_bound(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    path = "/api/v4/projects/7/merge_requests"
    scripted.expect("GET", path, json=[mr_json(1)], headers={"X-Next-Page": "2"})
    scripted.expect("GET", path, json=[mr_json(2)], headers={"X-Next-Page": "3"})

    with pytest.raises(GitLabTooManyPages):
        await gitlab.list_merge_requests(7, max_pages=2)


async def test_token_travels_only_in_the_header_and_never_in_logs(
    scripted: ScriptedGitLab, gitlab: GitLabClient, caplog: pytest.LogCaptureFixture
) -> None:
    scripted.expect("GET", "/api/v4/projects/group%2Fsub%20app/merge_requests/7", json=mr_json(7))
    scripted.expect("GET", "/api/v4/projects/group%2Fsub%20app/merge_requests/8", status=404)
    caplog.set_level(logging.DEBUG, logger="merge_assist.gitlab")

    await gitlab.get_merge_request("group/sub app", 7)
    with pytest.raises(GitLabNotFound):
        await gitlab.get_merge_request("group/sub app", 8)

    first = scripted.received[0]
    assert first.headers["private-token"] == TOKEN
    assert first.query == {"include_rebase_in_progress": "true"}
    assert all(TOKEN not in r.path and TOKEN not in str(r.query) for r in scripted.received)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    assert lines
    assert all(TOKEN not in line for line in lines)
    logged = json.loads(lines[0])
    assert logged["endpoint"] == "/projects/{project}/merge_requests/{iid}"
    assert logged["status"] == "200"
    assert "duration_ms" in logged
    assert TOKEN not in repr(gitlab)


async def test_calls_are_counted_per_operation_and_exported(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    labels = {"operation": "mr.approvals", "status": "200"}
    before = REGISTRY.get_sample_value("merge_assist_gitlab_calls_total", labels) or 0.0
    for _ in range(2):
        scripted.expect(
            "GET",
            MR_PATH + "/approvals",
            json={
                "approved": True,
                "approvals_left": 0,
                "approved_by": [{"user": {"id": 1, "username": "ann"}}],
            },
        )

    approvals = await gitlab.mr_approvals(7, 3)
    await gitlab.mr_approvals(7, 3)

    assert approvals.approver_usernames == ["ann"]
    assert gitlab.calls["mr.approvals"] == 2
    after = REGISTRY.get_sample_value("merge_assist_gitlab_calls_total", labels)
    assert after == before + 2


def test_base_url_forms_and_refusals() -> None:
    client = GitLabClient("https://gitlab.example.com/gitlab/api/v4/", TOKEN)
    assert client.api_url == "https://gitlab.example.com/gitlab/api/v4"
    assert client.web_url == "https://gitlab.example.com/gitlab"
    with pytest.raises(ValueError, match="credentials"):
        GitLabClient("https://oauth2:secret@gitlab.example.com", TOKEN)
    with pytest.raises(ValueError, match="token"):
        GitLabClient("https://gitlab.example.com", "  ")
