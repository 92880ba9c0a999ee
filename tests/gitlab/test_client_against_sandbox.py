"""The GitLab client against the GitLab sandbox over real HTTP: both must agree with GitLab."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab import (
    GitLabAuthError,
    GitLabClient,
    GitLabConflict,
    GitLabForbidden,
    GitLabLockConflict,
    GitLabMergeFailed,
    GitLabNotFound,
    GitLabNotMergeable,
    GitLabValidationError,
)
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery, NewMergeRequest
from merge_assist.gitlab.models import CommitAction, Pipeline
from tests.gitlab.conftest import FAIL_MARKER, MANY_MRS, PROJECT

# -- users, tokens, projects ------------------------------------------------------------------


async def test_current_user_and_token(bot: GitLabClient) -> None:
    user = await bot.current_user()
    assert user.username == "marge-bot"
    assert user.bot is True
    token = await bot.token_self()
    assert token.scopes == ["api"]
    assert str(token.expires_at) == "2031-01-01"
    assert token.active
    assert not token.revoked


async def test_get_project_by_id_and_path(bot: GitLabClient) -> None:
    by_path = await bot.get_project(PROJECT)
    by_id = await bot.get_project(by_path.id)
    assert by_path.path_with_namespace == by_id.path_with_namespace == PROJECT
    assert by_id.default_branch == "main"


async def test_tokens_are_checked(sandbox: RunningSandbox) -> None:
    async with GitLabClient(sandbox.url, "glpat-not-a-token-of-anyone") as stranger:
        with pytest.raises(GitLabAuthError) as unknown:
            await stranger.current_user()
    assert unknown.value.status == 401
    async with GitLabClient(sandbox.url, sandbox.token_for("viewer")) as viewer:
        assert (await viewer.get_merge_request(PROJECT, 1)).iid == 1
        with pytest.raises(GitLabForbidden) as read_only:
            await viewer.create_note(PROJECT, 1, "Cannot write with read_api.")
    assert read_only.value.status == 403


async def test_my_groups_lists_direct_and_inherited_memberships(
    sandbox: RunningSandbox, alice: GitLabClient
) -> None:
    sandbox.seed(
        {
            "groups": [
                {"path": "guild", "members": {"alice": "reporter"}},
                {"path": "guild/mill"},
                {"path": "other-guild"},
            ]
        }
    )
    paths = [group.full_path for group in await alice.my_groups()]
    assert {"guild", "guild/mill"} <= set(paths)
    assert "other-guild" not in paths
    assert "guild" not in [g.full_path for g in await alice.my_groups(min_access_level=30)]


# -- merge requests ---------------------------------------------------------------------------


async def test_list_merge_requests_filters(bot: GitLabClient, alice: GitLabClient) -> None:
    me = await bot.current_user()
    assigned = await bot.list_merge_requests(PROJECT, MergeRequestQuery(assignee_id=me.id))
    reviewing = await bot.list_merge_requests(PROJECT, MergeRequestQuery(reviewer_id=me.id))
    assert [mr.source_branch for mr in assigned] == ["feature-a"]
    assert [mr.source_branch for mr in reviewing] == ["feature-b"]
    alice_id = (await alice.current_user()).id
    assert [
        mr.source_branch
        for mr in await bot.list_merge_requests(PROJECT, MergeRequestQuery(reviewer_id=alice_id))
    ] == ["feature-a"]


async def test_list_merge_requests_follows_pages(bot: GitLabClient) -> None:
    mrs = await bot.list_merge_requests("acme/many", MergeRequestQuery(order_by="created_at"))
    assert len(mrs) == MANY_MRS
    assert len({mr.iid for mr in mrs}) == MANY_MRS
    assert bot.calls["mr.list"] == 2  # 100 + 5


async def test_get_and_update_merge_request(bot: GitLabClient, alice: GitLabClient) -> None:
    mr = await bot.get_merge_request(PROJECT, 2)
    assert mr.source_branch == "feature-b"
    assert mr.labels == []
    alice_id = (await alice.current_user()).id
    me = (await bot.current_user()).id
    updated = await bot.update_merge_request(
        PROJECT, 2, MergeRequestChanges(add_labels=["bug", "ready"], assignee_ids=[me, alice_id])
    )
    assert sorted(updated.labels) == ["bug", "ready"]
    assert sorted(u.username for u in updated.assignees) == ["alice", "marge-bot"]
    updated = await bot.update_merge_request(
        PROJECT, 2, MergeRequestChanges(remove_labels=["bug"], assignee_ids=[])
    )
    assert updated.labels == ["ready"]
    assert updated.assignees == []
    again = await bot.get_merge_request(PROJECT, 2)
    assert again.labels == ["ready"]
    assert again.assignees == []


async def test_notes(bot: GitLabClient) -> None:
    note = await bot.create_note(PROJECT, 1, "Added to the merge queue.")
    assert note.body == "Added to the merge queue."
    assert note.author
    assert note.author.username == "marge-bot"
    notes = await bot.mr_notes(PROJECT, 1)
    assert note.id in [n.id for n in notes]


async def test_approvals(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    assert (await bot.mr_approvals(PROJECT, 2)).approver_usernames == []
    project = await bot.get_project(PROJECT)
    # The client has no approve call (the bot never approves): root approves directly.
    async with httpx.AsyncClient(timeout=10) as http:
        approved = await http.post(
            f"{sandbox.api_url}/projects/{project.id}/merge_requests/2/approve",
            headers={"PRIVATE-TOKEN": sandbox.token_for("root")},
        )
    assert approved.status_code == 201
    approvals = await bot.mr_approvals(PROJECT, 2)
    assert approvals.approver_usernames == ["root"]
    assert approvals.approved


# -- pipelines ---------------------------------------------------------------------------------


async def test_pipeline_runs_to_success(bot: GitLabClient) -> None:
    pipeline = await bot.create_pipeline(PROJECT, "feature-a")
    mr = await bot.get_merge_request(PROJECT, 1)
    assert pipeline.sha == mr.sha
    listed = await bot.list_pipelines(PROJECT, sha=mr.sha)
    assert pipeline.id in [p.id for p in listed]
    assert pipeline.id in [p.id for p in await bot.mr_pipelines(PROJECT, 1)]
    pipeline = await _finished(bot, pipeline)
    assert pipeline.status == "success"
    jobs = await bot.pipeline_jobs(PROJECT, pipeline.id)
    assert jobs
    assert all(job.status == "success" for job in jobs)
    trace = await bot.job_trace(PROJECT, jobs[0].id)
    assert trace.strip()


async def _finished(bot: GitLabClient, pipeline: Pipeline) -> Pipeline:
    for _ in range(300):
        pipeline = await bot.get_pipeline(PROJECT, pipeline.id)
        if pipeline.status in ("success", "failed", "canceled"):
            return pipeline
        await asyncio.sleep(0.05)
    raise AssertionError(f"pipeline {pipeline.id} did not finish")


async def test_pipeline_fails_on_the_marker(bot: GitLabClient) -> None:
    await bot.create_branch(PROJECT, "broken", "main")
    await bot.create_commit(
        PROJECT,
        "broken",
        "Break CI",
        [CommitAction(action="create", file_path="broken.txt", content=FAIL_MARKER + "\n")],
    )
    pipeline = await _finished(bot, await bot.create_pipeline(PROJECT, "broken"))
    assert pipeline.status == "failed"
    jobs = await bot.pipeline_jobs(PROJECT, pipeline.id)
    assert any(job.status == "failed" for job in jobs)
    await bot.delete_branch(PROJECT, "broken")


# -- repository --------------------------------------------------------------------------------


async def test_branches(bot: GitLabClient) -> None:
    branch = await bot.create_branch(PROJECT, "scratch", "main")
    main = await bot.get_branch(PROJECT, "main")
    assert branch.name == "scratch"
    assert branch.commit
    assert main.commit
    assert branch.commit.id == main.commit.id
    await bot.delete_branch(PROJECT, "scratch")
    await bot.delete_branch(PROJECT, "scratch", missing_ok=True)
    assert "scratch" not in [b.name for b in await bot.list_branches(PROJECT)]


async def test_file_metadata_without_content(bot: GitLabClient) -> None:
    full = await bot.get_file(PROJECT, "src/app.py", ref="main")
    meta = await bot.file_metadata(PROJECT, "src/app.py", ref="main")
    assert (meta.file_name, meta.file_path, meta.size) == ("app.py", "src/app.py", full.size)
    assert meta.content_sha256 == full.content_sha256
    assert (meta.blob_id, meta.last_commit_id) == (full.blob_id, full.last_commit_id)
    assert meta.execute_filemode is False
    assert bot.calls["file.head"] == 1
    with pytest.raises(GitLabNotFound):
        await bot.file_metadata(PROJECT, "missing.txt", ref="main")


async def test_commit_files_and_compare(bot: GitLabClient) -> None:
    await bot.create_branch(PROJECT, "files", "main")
    before = await bot.get_file(PROJECT, "README.md", ref="files")
    assert base64.b64decode(before.content) == b"# webapp\n"
    commit = await bot.create_commit(
        PROJECT,
        "files",
        "Edit the readme",
        [
            CommitAction(
                action="update",
                file_path="README.md",
                content="# v2\n",
                last_commit_id=before.last_commit_id,
            ),
            CommitAction.with_bytes("create", "assets/logo.bin", b"\x00\x01\xff"),
        ],
    )
    assert await bot.get_raw_file(PROJECT, "assets/logo.bin", ref="files") == b"\x00\x01\xff"
    assert await bot.get_raw_file(PROJECT, "README.md", ref=commit.id) == b"# v2\n"
    with pytest.raises(GitLabValidationError) as refused:
        await bot.create_commit(
            PROJECT,
            "files",
            "Stale edit",
            [
                CommitAction(
                    action="update",
                    file_path="README.md",
                    content="# v3\n",
                    last_commit_id=before.last_commit_id,
                )
            ],
        )
    assert refused.value.status == 400
    compare = await bot.compare(PROJECT, "main", "files")
    assert [c.id for c in compare.commits] == [commit.id]
    assert sorted(d.new_path for d in compare.diffs) == ["README.md", "assets/logo.bin"]
    await bot.delete_branch(PROJECT, "files")


async def test_update_file_is_a_compare_and_swap(bot: GitLabClient) -> None:
    await bot.create_branch(PROJECT, "put-cas", "main")
    before = await bot.get_file(PROJECT, "src/app.py", ref="put-cas")
    await bot.update_file(
        PROJECT,
        "src/app.py",
        b"print('v2')\n",
        branch="put-cas",
        message="Edit app",
        last_commit_id=before.last_commit_id,
    )
    assert await bot.get_raw_file(PROJECT, "src/app.py", ref="put-cas") == b"print('v2')\n"
    with pytest.raises(GitLabValidationError, match="changed since you started") as stale:
        await bot.update_file(
            PROJECT,
            "src/app.py",
            b"print('v3')\n",
            branch="put-cas",
            message="Stale edit",
            last_commit_id=before.last_commit_id,
        )
    assert stale.value.status == 400
    assert await bot.get_raw_file(PROJECT, "src/app.py", ref="put-cas") == b"print('v2')\n"
    await bot.delete_branch(PROJECT, "put-cas")


async def test_find_project_member(bot: GitLabClient) -> None:
    alice = await bot.find_project_member(PROJECT, "Alice")
    assert alice is not None
    assert alice.username == "alice"
    assert await bot.find_project_member(PROJECT, "ali") is None  # exact usernames only
    assert await bot.find_project_member(PROJECT, "nobody-here") is None
    assert await bot.find_project_member(PROJECT, " ") is None


# -- rebase and merge ----------------------------------------------------------------------------


async def test_rebase_then_merge(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    await bot.create_commit(
        PROJECT,
        "main",
        "Move main",
        [CommitAction(action="create", file_path="moved.txt", content="moved\n")],
    )
    old = await bot.get_merge_request(PROJECT, 5)
    assert await bot.rebase_merge_request(PROJECT, 5)
    rebased = await bot.wait_for_rebase(PROJECT, 5, max_wait=30, interval=0.1)
    assert rebased.merge_error is None
    assert rebased.sha != old.sha
    compare = await bot.compare(PROJECT, "main", "feature-rebase")
    assert len(compare.commits) == 1
    assert old.sha
    with pytest.raises(GitLabConflict):
        await bot.merge_merge_request(PROJECT, 5, sha=old.sha)
    merged = await _merge_when_checked(bot, 5, rebased.sha)
    assert merged.state == "merged"
    assert merged.merge_commit_sha


async def _merge_when_checked(bot: GitLabClient, iid: int, sha: str | None) -> Any:
    for _ in range(100):
        mr = await bot.get_merge_request(PROJECT, iid)
        if mr.detailed_merge_status != "checking":
            break
        await asyncio.sleep(0.05)
    return await bot.merge_merge_request(PROJECT, iid, sha=sha)


async def test_conflicting_branch_is_not_mergeable(bot: GitLabClient) -> None:
    await bot.create_commit(
        PROJECT,
        "main",
        "Rewrite the readme on main",
        [CommitAction(action="update", file_path="README.md", content="# main moved\n")],
    )
    with pytest.raises(GitLabNotMergeable) as refused:
        await _merge_when_checked(bot, 4, (await bot.get_merge_request(PROJECT, 4)).sha)
    assert refused.value.status == 405  # GitLab 16+: any MR that is not mergeable
    assert not isinstance(refused.value, GitLabMergeFailed)
    assert (await bot.get_merge_request(PROJECT, 4)).has_conflicts


async def test_draft_is_not_mergeable(bot: GitLabClient) -> None:
    mr = await bot.get_merge_request(PROJECT, 3)
    assert mr.draft
    with pytest.raises(GitLabNotMergeable) as refused:
        await bot.merge_merge_request(PROJECT, 3, sha=mr.sha)
    assert refused.value.status == 405


# -- hooks and LFS locks ---------------------------------------------------------------------------


async def test_project_hooks(bot: GitLabClient) -> None:
    hook = await bot.create_project_hook(PROJECT, "http://127.0.0.1:9/hook", token="s3cret")
    assert hook.merge_requests_events
    assert not hook.push_events
    assert hook.id in [h.id for h in await bot.list_project_hooks(PROJECT)]
    await bot.delete_project_hook(PROJECT, hook.id)
    assert hook.id not in [h.id for h in await bot.list_project_hooks(PROJECT)]


async def test_lfs_locks(bot: GitLabClient, alice: GitLabClient) -> None:
    lock = await alice.lfs_create_lock(PROJECT, "assets/model.psd")
    assert lock.owner
    assert lock.owner.name == "Alice"
    with pytest.raises(GitLabLockConflict) as taken:
        await bot.lfs_create_lock(PROJECT, "assets/model.psd")
    assert taken.value.lock
    assert taken.value.lock.id == lock.id
    assert "Alice" in str(taken.value)
    verification = await bot.lfs_verify_locks(PROJECT)
    assert [held.id for held in verification.theirs] == [lock.id]
    assert verification.ours == []
    released = await bot.lfs_unlock(PROJECT, lock.id, force=True)
    assert released.id == lock.id
    assert await bot.lfs_locks(PROJECT) == []


# -- reads the merge engine and the vault rely on ----------------------------------------------


async def test_merge_request_changes_commits_and_discussions(bot: GitLabClient) -> None:
    changes = await bot.mr_changes(PROJECT, 1)
    assert [(d.new_path, d.new_file) for d in changes] == [("src/a.py", True)]
    commits = await bot.mr_commits(PROJECT, 1)
    mr = await bot.get_merge_request(PROJECT, 1)
    assert [c.id for c in commits] == [mr.sha]
    assert isinstance(await bot.mr_discussions(PROJECT, 1), list)
    refs = await bot.commit_refs(PROJECT, mr.sha or "", ref_type="branch")
    assert [(r.type, r.name) for r in refs] == [("branch", "feature-a")]


async def test_tree_history_labels_users_version(bot: GitLabClient) -> None:
    tree = await bot.tree(PROJECT, ref="topic", recursive=True)
    assert {"README.md", "src/app.py", "src/topic.py"} <= {e.path for e in tree if e.type == "blob"}
    history = await bot.file_history(PROJECT, "src/topic.py", ref="topic")
    assert len(history) == 1
    assert history[0].id == (await bot.get_commit(PROJECT, "topic")).id
    assert {label.name for label in await bot.list_labels(PROJECT)} >= {"bug", "ready"}
    alice = await bot.find_user("alice")
    assert alice is not None
    assert alice.username == "alice"
    assert await bot.find_user("nobody-by-that-name") is None
    assert (await bot.get_version()).version


async def test_commit_refs_of_main(bot: GitLabClient) -> None:
    main = await bot.get_commit(PROJECT, "main")
    names = {r.name for r in await bot.commit_refs(PROJECT, main.id, ref_type="branch")}
    assert "main" in names
    assert await bot.commit_refs(PROJECT, main.id, ref_type="tag") == []


async def test_commit_refs_refuses_an_unknown_type(
    bot: GitLabClient, sandbox: RunningSandbox
) -> None:
    project = await bot.get_project(PROJECT)
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(
            f"{sandbox.api_url}/projects/{project.id}/repository/commits/main/refs",
            params={"type": "bogus"},
            headers={"PRIVATE-TOKEN": sandbox.token_for("alice")},
        )
    assert answer.status_code == 400
    assert answer.json() == {"error": "type does not have a valid value"}


async def test_projects_and_labels(bot: GitLabClient) -> None:
    mine = [p.path_with_namespace for p in await bot.list_projects(min_access_level=40)]
    assert sorted(mine) == ["acme/many", PROJECT]
    label = await bot.create_label(PROJECT, "queued", color="#0000ff", description="In the queue")
    assert label.name == "queued"
    with pytest.raises(GitLabConflict) as exists:
        await bot.create_label(PROJECT, "queued", color="#0000ff")
    assert exists.value.status == 409


async def test_create_merge_request_once(bot: GitLabClient, alice: GitLabClient) -> None:
    await bot.create_branch(PROJECT, "feature-new", "topic")
    alice_id = (await alice.current_user()).id
    mr = await bot.create_merge_request(
        PROJECT,
        NewMergeRequest(
            source_branch="feature-new",
            target_branch="main",
            title="New feature",
            reviewer_ids=[alice_id],
            labels=["bug"],
        ),
    )
    assert mr.state == "opened"
    assert mr.labels == ["bug"]
    assert [u.username for u in mr.reviewers] == ["alice"]
    with pytest.raises(GitLabConflict) as duplicate:
        await bot.create_merge_request(
            PROJECT,
            NewMergeRequest(source_branch="feature-new", target_branch="main", title="Again"),
        )
    assert duplicate.value.status == 409
    closed = await bot.update_merge_request(
        PROJECT, mr.iid, MergeRequestChanges(state_event="close")
    )
    assert closed.state == "closed"


async def test_cancel_and_retry_pipeline(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    pipeline = await bot.create_pipeline(PROJECT, "topic")
    canceled = await bot.cancel_pipeline(PROJECT, pipeline.id)
    # GitLab 17: a running job is "canceling" until its runner stops it, a waiting one is
    # "canceled" at once (issue 14, item 10).
    assert canceled.status in ("canceling", "canceled")
    sandbox.advance_clock(5)
    for _ in range(200):
        if (await bot.get_pipeline(PROJECT, pipeline.id)).status == "canceled":
            break
        await asyncio.sleep(0.02)
    assert (await bot.get_pipeline(PROJECT, pipeline.id)).status == "canceled"
    retried = await bot.retry_pipeline(PROJECT, pipeline.id)
    assert retried.id == pipeline.id
    assert retried.status != "canceled"
