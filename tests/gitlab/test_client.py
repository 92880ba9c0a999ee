"""How operations spell their requests and read their answers (over real HTTP)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from merge_assist.gitlab import (
    GitAuthor,
    GitLabClient,
    GitLabLockConflict,
    GitLabNotFound,
    GitLabRebaseTimeout,
)
from merge_assist.gitlab.models import CommitAction
from merge_assist.kit.settings import Environment, Settings
from tests.gitlab.conftest import TOKEN, ScriptedGitLab, SleepRecorder
from tests.gitlab.test_core import MR_PATH, mr_json

LOCKS = "/group/app.git/info/lfs/locks"
LFS_TYPE = "application/vnd.git-lfs+json"


def lock_json(lock_id: str = "12", path: str = "parts/gear.mcam", owner: str = "Ann") -> dict:
    return {
        "id": lock_id,
        "path": path,
        "locked_at": "2025-03-01T12:00:00Z",
        "owner": {"name": owner},
    }


async def test_lfs_lock_uses_basic_auth_and_the_lfs_media_type(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("POST", LOCKS, status=201, json={"lock": lock_json()}, media_type=LFS_TYPE)

    lock = await gitlab.lfs_create_lock("group/app", "parts/gear.mcam", ref="main")

    assert lock.id == "12"
    assert lock.owner is not None
    assert lock.owner.name == "Ann"
    sent = scripted.received[0]
    expected = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert sent.headers["authorization"] == f"Basic {expected}"
    assert sent.headers["accept"] == LFS_TYPE
    assert sent.headers["content-type"] == LFS_TYPE
    assert "private-token" not in sent.headers
    assert sent.json() == {"path": "parts/gear.mcam", "ref": {"name": "refs/heads/main"}}
    assert TOKEN not in sent.path


async def test_lfs_lock_conflict_carries_the_existing_lock(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect(
        "POST",
        LOCKS,
        status=409,
        json={"lock": lock_json(owner="Bob"), "message": "already created lock"},
    )

    with pytest.raises(GitLabLockConflict) as caught:
        await gitlab.lfs_create_lock("group/app", "parts/gear.mcam")

    assert caught.value.lock is not None
    assert caught.value.lock.owner is not None
    assert caught.value.lock.owner.name == "Bob"
    assert caught.value.message == "parts/gear.mcam is locked already by Bob."
    assert caught.value.status == 409


async def test_lfs_locks_follow_the_cursor_and_unlock_and_verify(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("GET", LOCKS, json={"locks": [lock_json("1")], "next_cursor": "c2"})
    scripted.expect("GET", LOCKS, json={"locks": [lock_json("2", path="b.nc")]})
    scripted.expect("POST", LOCKS + "/2/unlock", json={"lock": lock_json("2", path="b.nc")})
    scripted.expect(
        "POST", LOCKS + "/verify", json={"ours": [lock_json("1")], "theirs": [], "next_cursor": ""}
    )

    locks = await gitlab.lfs_locks("group/app")
    released = await gitlab.lfs_unlock("group/app", "2", force=True)
    verified = await gitlab.lfs_verify_locks("group/app", ref="refs/heads/main")

    assert [lock.id for lock in locks] == ["1", "2"]
    assert scripted.received[1].query["cursor"] == "c2"
    assert released.path == "b.nc"
    assert scripted.received[2].json() == {"force": True}
    assert [lock.id for lock in verified.ours] == ["1"]
    assert verified.theirs == []
    assert scripted.received[3].json()["ref"] == {"name": "refs/heads/main"}


async def test_wait_for_rebase_polls_until_done(
    scripted: ScriptedGitLab, gitlab: GitLabClient, sleeps: SleepRecorder
) -> None:
    scripted.expect("PUT", MR_PATH + "/rebase", status=202, json={"rebase_in_progress": True})
    scripted.expect("GET", MR_PATH, json=mr_json(rebase_in_progress=True))
    scripted.expect("GET", MR_PATH, json=mr_json(rebase_in_progress=False, sha="b" * 40))

    assert await gitlab.rebase_merge_request(7, 3) is True
    mr = await gitlab.wait_for_rebase(7, 3, max_wait=1, interval=0.01)

    assert mr.sha == "b" * 40
    assert mr.merge_error is None
    assert sleeps.delays == [0.01]


async def test_wait_for_rebase_gives_up_after_its_bound(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    for _ in range(3):
        scripted.expect("GET", MR_PATH, json=mr_json(rebase_in_progress=True))

    with pytest.raises(GitLabRebaseTimeout):
        await gitlab.wait_for_rebase(7, 3, max_wait=0.03, interval=0.01)


async def test_create_commit_sends_actions_and_author(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect(
        "POST",
        "/api/v4/projects/7/repository/commits",
        status=201,
        json={"id": "c" * 40, "title": "Check in gear", "parent_ids": ["d" * 40]},
    )
    actions = [
        CommitAction.with_bytes("update", "parts/gear.mcam", b"\x00\x01", last_commit_id="e" * 40),
        CommitAction(action="delete", file_path="old.nc"),
    ]

    commit = await gitlab.create_commit(
        7, "main", "Check in gear", actions, author=GitAuthor("Ann", "ann@example.com")
    )

    assert commit.id == "c" * 40
    assert scripted.received[0].json() == {
        "branch": "main",
        "commit_message": "Check in gear",
        "actions": [
            {
                "action": "update",
                "file_path": "parts/gear.mcam",
                "content": "AAE=",
                "encoding": "base64",
                "last_commit_id": "e" * 40,
            },
            {"action": "delete", "file_path": "old.nc"},
        ],
        "author_name": "Ann",
        "author_email": "ann@example.com",
    }


async def test_files_and_branches_with_slashes_are_one_path_segment(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    content = b"G0 X1\n"
    scripted.expect(
        "GET",
        "/api/v4/projects/7/repository/files/parts%2Fa%20b.nc",
        json={
            "file_name": "a b.nc",
            "file_path": "parts/a b.nc",
            "size": len(content),
            "encoding": "base64",
            "content": base64.b64encode(content).decode(),
            "last_commit_id": "f" * 40,
        },
    )
    scripted.expect(
        "GET",
        "/api/v4/projects/7/repository/files/parts%2Fa%20b.nc/raw",
        body=content,
        media_type="application/octet-stream",
    )
    scripted.expect("DELETE", "/api/v4/projects/7/repository/branches/merge-assist%2Fbatch-1")

    file = await gitlab.get_file(7, "parts/a b.nc", ref="main")
    raw = await gitlab.get_raw_file(7, "parts/a b.nc", ref="main")
    await gitlab.delete_branch(7, "merge-assist/batch-1")

    assert file.decoded() == content
    assert raw == content
    assert scripted.received[0].query == {"ref": "main"}


async def test_mr_changes_falls_back_to_the_old_endpoint(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("GET", MR_PATH + "/diffs", status=404, json={"message": "404 Not Found"})
    scripted.expect(
        "GET",
        MR_PATH + "/changes",
        json={**mr_json(), "changes": [{"old_path": "a.nc", "new_path": "a.nc", "diff": "@@"}]},
    )

    changes = await gitlab.mr_changes(7, 3)

    assert [c.new_path for c in changes] == ["a.nc"]


async def test_missing_resources_raise_not_found(
    scripted: ScriptedGitLab, gitlab: GitLabClient
) -> None:
    scripted.expect("GET", "/api/v4/projects/7/repository/branches/gone", status=404, json={})
    scripted.expect("DELETE", "/api/v4/projects/7/repository/branches/gone", status=404)
    scripted.expect("DELETE", "/api/v4/projects/7/repository/branches/gone", status=404)

    with pytest.raises(GitLabNotFound):
        await gitlab.get_branch(7, "gone")
    with pytest.raises(GitLabNotFound):
        await gitlab.delete_branch(7, "gone")
    await gitlab.delete_branch(7, "gone", missing_ok=True)


async def test_pipelines_jobs_and_trace(scripted: ScriptedGitLab, gitlab: GitLabClient) -> None:
    scripted.expect(
        "GET",
        "/api/v4/projects/7/pipelines",
        json=[{"id": 9, "sha": "a" * 40, "ref": "main", "status": "success"}],
    )
    scripted.expect(
        "GET",
        "/api/v4/projects/7/pipelines/9/jobs",
        json=[{"id": 90, "name": "test", "status": "failed", "pipeline": {"id": 9}}],
    )
    scripted.expect(
        "GET",
        "/api/v4/projects/7/jobs/90/trace",
        body=b"line 1\nFAILED x\n",
        media_type="text/plain",
    )

    pipelines = await gitlab.list_pipelines(7, sha="a" * 40)
    jobs = await gitlab.pipeline_jobs(7, 9)
    trace = await gitlab.job_trace(7, 90, max_bytes=9)

    assert pipelines[0].status == "success"
    assert scripted.received[0].query["sha"] == "a" * 40
    assert scripted.received[0].query["order_by"] == "id"
    assert jobs[0].pipeline is not None
    assert jobs[0].pipeline.id == 9
    assert trace == "FAILED x\n"


async def test_token_self_and_hooks(scripted: ScriptedGitLab, gitlab: GitLabClient) -> None:
    scripted.expect(
        "GET",
        "/api/v4/personal_access_tokens/self",
        json={"id": 4, "name": "bot", "scopes": ["api"], "expires_at": "2026-01-31"},
    )
    scripted.expect(
        "POST",
        "/api/v4/projects/7/hooks",
        status=201,
        json={"id": 3, "url": "https://ma.example/webhook/gitlab", "merge_requests_events": True},
    )

    token = await gitlab.token_self()
    hook = await gitlab.create_project_hook(
        7, "https://ma.example/webhook/gitlab", token="hook-secret"
    )

    assert token.scopes == ["api"]
    assert str(token.expires_at) == "2026-01-31"
    assert hook.merge_requests_events is True
    body = scripted.received[1].json()
    assert body["token"] == "hook-secret"
    assert body["merge_requests_events"] is True
    assert body["push_events"] is False


async def test_client_from_settings(scripted: ScriptedGitLab, tmp_path: Path) -> None:
    settings = Settings(
        environment=Environment.test,
        data_dir=tmp_path,
        gitlab_url=scripted.url,
        gitlab_read_timeout_seconds=7,
        gitlab_max_retries=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    scripted.expect("GET", "/api/v4/version", json={"version": "17.5.0", "revision": "abc"})

    async with GitLabClient.from_settings(settings, TOKEN) as client:
        version = await client.get_version()

    assert version.version == "17.5.0"
    assert client.timeout.read == 7
    assert client.policy.max_retries == 1
