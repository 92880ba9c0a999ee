"""The GitLab client's retries under the sandbox's fault injection, and git over smart HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab import GitLabClient, GitLabRateLimited, GitLabUnavailable
from merge_assist.gitlab.git import GitCli
from merge_assist.gitlab.retry import RetryPolicy
from tests.gitlab.conftest import PROJECT, sandbox_scenario


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    return sandbox_scenario(many_mrs=0)  # no paging here: a quicker start


@pytest.fixture(autouse=True)
def no_faults(sandbox: RunningSandbox) -> Iterator[None]:
    yield
    sandbox.faults(rules=[])


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
        sandbox.url, sandbox.token_for("marge-bot"), retry=RetryPolicy(max_retries=8, backoff=0.001)
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
        sandbox.url, sandbox.token_for("marge-bot"), retry=RetryPolicy(max_retries=8), sleep=sleeps
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


async def test_long_rate_limit_is_handed_to_the_caller(sandbox: RunningSandbox) -> None:
    sandbox.faults(
        rules=[{"path": r"^/api/v4/user$", "error_rate": 1.0, "statuses": [429], "retry_after": 60}]
    )
    sleeps = RecordedSleeps()
    async with GitLabClient(
        sandbox.url,
        sandbox.token_for("marge-bot"),
        retry=RetryPolicy(max_retry_after=5),
        sleep=sleeps,
    ) as client:
        with pytest.raises(GitLabRateLimited) as limited:
            await client.current_user()
    assert limited.value.retry_after == 60
    assert sleeps.delays == []
    assert client.calls["user.current"] == 1


async def test_timed_out_merge_is_not_resent(bot: GitLabClient, sandbox: RunningSandbox) -> None:
    mr = await bot.get_merge_request(PROJECT, 2)
    sandbox.faults(
        rules=[{"path": r"/merge$", "method": "PUT", "timeout_rate": 1.0, "timeout_seconds": 2.0}]
    )
    before = _bot_calls(sandbox)
    async with GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), timeout=0.5, retry=RetryPolicy(max_retries=3)
    ) as client:
        with pytest.raises(GitLabUnavailable) as failed:
            await client.merge_merge_request(PROJECT, 2, sha=mr.sha)
    assert "timed out" in str(failed.value)
    assert client.calls["mr.merge"] == 1
    sandbox.wait_until(lambda: _bot_calls(sandbox) - before == 1, timeout=10, what="the 504")
