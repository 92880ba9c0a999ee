"""The GitLab client against the GitLab sandbox over real HTTP: both must agree with GitLab."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab import (
    GitLabAuthError,
    GitLabClient,
    GitLabConflict,
    GitLabForbidden,
    GitLabLockConflict,
    GitLabNotMergeable,
    GitLabUnavailable,
    GitLabValidationError,
)
from merge_assist.gitlab.git import GitCli
from merge_assist.gitlab.models import CommitAction, Pipeline

PROJECT = "acme/webapp"
MANY_MRS = 105  # more than one page of 100
FAIL_MARKER = "sandbox-ci: fail"


def _scenario() -> dict[str, Any]:
    many = [
        {
            "source_branch": f"many-{n:03d}",
            "title": f"Many {n}",
            "author": "alice",
            "files": {f"many/{n:03d}.txt": f"{n}\n"},
        }
        for n in range(MANY_MRS)
    ]
    return {
        "seed": 3,
        "clock_speed": 60,
        "run_pipelines": False,
        "ci": {
            "duration_seconds": [5, 10],
            "runner_capacity": 8,
            "flake_rate": 0.0,
            "fail_marker": FAIL_MARKER,
        },
        "users": [
            {"username": "root", "admin": True},
            {
                "username": "marge-bot",
                "name": "Marge Bot",
                "bot": True,
                "tokens": [{"name": "bot", "scopes": ["api"], "expires_at": "2031-01-01"}],
            },
            {"username": "alice", "name": "Alice"},
            {"username": "viewer", "tokens": [{"name": "read", "scopes": ["read_api"]}]},
        ],
        "projects": [
            {
                "path": PROJECT,
                "owner": "root",
                "members": {"marge-bot": "maintainer", "alice": "developer", "viewer": "reporter"},
                "labels": ["bug", "ready"],
                "files": {"README.md": "# webapp\n", "src/app.py": "print('hello')\n"},
                "branches": {"topic": {"files": {"src/topic.py": "x = 1\n"}}},
                "merge_requests": [
                    {
                        "source_branch": "feature-a",
                        "title": "Add feature A",
                        "author": "alice",
                        "assignees": ["marge-bot"],
                        "reviewers": ["alice"],
                        "labels": ["ready"],
                        "files": {"src/a.py": "a = 1\n"},
                    },
                    {
                        "source_branch": "feature-b",
                        "title": "Add feature B",
                        "author": "alice",
                        "reviewers": ["marge-bot"],
                        "files": {"src/b.py": "b = 1\n"},
                    },
                    {
                        "source_branch": "feature-draft",
                        "title": "Unfinished",
                        "author": "alice",
                        "draft": True,
                        "files": {"src/d.py": "d = 1\n"},
                    },
                    {
                        "source_branch": "feature-clash",
                        "title": "Clashes with main",
                        "author": "alice",
                        "files": {"README.md": "# clash\n"},
                    },
                    {
                        "source_branch": "feature-rebase",
                        "title": "Needs a rebase",
                        "author": "alice",
                        "files": {"src/r.py": "r = 1\n"},
                    },
                ],
            },
            {
                "path": "acme/many",
                "owner": "root",
                "members": {"marge-bot": "maintainer", "alice": "developer"},
                "files": {"README.md": "# many\n"},
                "merge_requests": many,
            },
        ],
    }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(_scenario()) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    sandbox.faults(rules=[])


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), max_retries=2, backoff=0.01
    ) as client:
        yield client


@pytest.fixture
async def alice(sandbox: RunningSandbox) -> AsyncIterator[GitLabClient]:
    async with GitLabClient(sandbox.url, sandbox.token_for("alice"), max_retries=0) as client:
        yield client


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


# -- merge requests ---------------------------------------------------------------------------


async def test_list_merge_requests_filters(bot: GitLabClient, alice: GitLabClient) -> None:
    me = await bot.current_user()
    assigned = await bot.list_merge_requests(PROJECT, assignee_id=me.id)
    reviewing = await bot.list_merge_requests(PROJECT, reviewer_id=me.id)
    assert [mr.source_branch for mr in assigned] == ["feature-a"]
    assert [mr.source_branch for mr in reviewing] == ["feature-b"]
    alice_id = (await alice.current_user()).id
    assert [
        mr.source_branch for mr in await bot.list_merge_requests(PROJECT, reviewer_id=alice_id)
    ] == ["feature-a"]


async def test_list_merge_requests_follows_pages(bot: GitLabClient) -> None:
    mrs = await bot.list_merge_requests("acme/many", order_by="created_at")
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
        PROJECT, 2, add_labels=["bug", "ready"], assignee_ids=[me, alice_id]
    )
    assert sorted(updated.labels) == ["bug", "ready"]
    assert sorted(u.username for u in updated.assignees) == ["alice", "marge-bot"]
    updated = await bot.update_merge_request(PROJECT, 2, remove_labels=["bug"], assignee_ids=[])
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
    assert refused.value.status in (406, 422)
    assert "cannot be merged" in str(refused.value)
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


# -- resilience under the sandbox's fault injection --------------------------------------------


class RecordedSleeps:
    """Really sleeps, and remembers how long the client asked to wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(seconds)


def _bot_calls(sandbox: RunningSandbox) -> int:
    by_token: dict[str, int] = sandbox.stats()["calls"]["by_token"]
    return sum(n for label, n in by_token.items() if label.endswith("(marge-bot)"))


def _statuses(sandbox: RunningSandbox) -> dict[str, int]:
    return dict(sandbox.stats()["calls"]["by_status"])


async def test_unavailable_after_max_retries(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    project = await bot.get_project(PROJECT)
    rule = {"path": r"/repository/branches", "method": "GET", "error_rate": 1.0}
    sandbox.faults(rules=[{**rule, "statuses": [503]}], seed=1)
    before = _bot_calls(sandbox)
    with pytest.raises(GitLabUnavailable) as failed:
        await bot.get_branch(project.id, "main")
    assert failed.value.status == 503
    assert _bot_calls(sandbox) - before == bot.policy.max_retries + 1
    assert "3 attempts" in str(failed.value)


async def test_half_failing_reads_succeed(sandbox: RunningSandbox) -> None:
    sandbox.faults(
        rules=[
            {"path": r"/merge_requests/1$", "method": "GET", "error_rate": 0.5, "statuses": [500]}
        ],
        seed=7,
    )
    errors_before = _statuses(sandbox).get("500", 0)
    async with GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), max_retries=8, backoff=0.001
    ) as client:
        for _ in range(10):
            assert (await client.get_merge_request(PROJECT, 1)).iid == 1
        assert client.calls["mr.get"] > 10
    assert _statuses(sandbox).get("500", 0) - errors_before == client.calls["mr.get"] - 10


async def test_rate_limit_waits_retry_after(sandbox: RunningSandbox) -> None:
    sandbox.faults(
        rules=[{"path": r"^/api/v4/user$", "error_rate": 0.5, "statuses": [429], "retry_after": 1}],
        seed=2,
    )
    sleeps = RecordedSleeps()
    async with GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), max_retries=8, sleep=sleeps
    ) as client:
        for _ in range(4):
            assert (await client.current_user()).username == "marge-bot"
    assert sleeps.delays
    assert set(sleeps.delays) == {1.0}
    assert client.calls["user.current"] == 4 + len(sleeps.delays)


async def test_merge_is_not_retried(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    mr = await bot.get_merge_request(PROJECT, 1)
    sandbox.faults(
        rules=[{"path": r"/merge$", "method": "PUT", "error_rate": 1.0, "statuses": [500]}]
    )
    before = _bot_calls(sandbox)
    with pytest.raises(GitLabUnavailable):
        await bot.merge_merge_request(PROJECT, 1, sha=mr.sha)
    assert _bot_calls(sandbox) - before == 1
    assert bot.calls["mr.merge"] == 1
    sandbox.faults(rules=[])
    assert (await bot.get_merge_request(PROJECT, 1)).state == "opened"


# -- the git CLI wrapper over smart HTTP ----------------------------------------------------------


async def test_git_clone_commit_push(
    bot: GitLabClient, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    token = sandbox.token_for("marge-bot")
    git = GitCli(tmp_path / "home", token=token, time_limit=60)
    repo = await git.clone(sandbox.clone_url(PROJECT), tmp_path / "work", branch="main")
    await repo.configure_identity("Marge Bot", "marge-bot@example.com")
    await repo.create_branch("pushed-by-git", "main")
    (repo.path / "pushed.txt").write_text("over smart HTTP\n", encoding="utf-8")
    sha = await repo.commit("Push over smart HTTP")
    await repo.push("pushed-by-git")
    branch = await bot.get_branch(PROJECT, "pushed-by-git")
    assert branch.commit
    assert branch.commit.id == sha
    assert token not in (repo.path / ".git" / "config").read_text(encoding="utf-8")
    assert token not in await repo.remote_url()
