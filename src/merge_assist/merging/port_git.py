"""The port's local git clone: merging members into batch branches and compare-and-swap pushes.

One working copy per (project, target branch) under the port's work folder, cloned on first
use and fetched before every operation. The bot's token reaches git only through the
``GIT_ASKPASS`` wrapper of :class:`merge_assist.gitlab.git.GitCli` (never in a URL, argv or
log). A folder that is not a usable clone is removed and cloned again: it holds nothing that
GitLab does not also hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from pathlib import Path

from merge_assist.gitlab.git import GitCli, GitCommandError, GitPushRejected, GitRepository
from merge_assist.merging import actions as act
from merge_assist.merging.observations import BatchMergeResult, PushResult

ALL_BRANCHES = "+refs/heads/*:refs/remotes/origin/*"
BOT_NAME = "Merge Assist"
BOT_EMAIL = "merge-assist@localhost"


class BatchWorkspace:
    """A clone of the project where batch branches are merged and targets pushed."""

    def __init__(
        self,
        git: GitCli,
        folder: Path,
        clone_url: str,
        *,
        identity: tuple[str, str] = (BOT_NAME, BOT_EMAIL),
    ) -> None:
        self.git = git
        self.folder = folder
        self.clone_url = clone_url
        self.identity = identity
        self._repo: GitRepository | None = None
        self._lock = asyncio.Lock()

    async def repository(self) -> GitRepository:
        """The clone, made on first use (or again when the folder is broken), freshly fetched."""
        if self._repo is None:
            self._repo = await self._open_or_clone()
        await self._repo.fetch([ALL_BRANCHES], prune=True)
        return self._repo

    async def _open_or_clone(self) -> GitRepository:
        if (self.folder / ".git").is_dir():
            repo = self.git.open(self.folder)
            try:
                await repo.rev_parse("HEAD")
                if await repo.remote_url() == self.clone_url:
                    await repo.configure_identity(*self.identity)
                    return repo
            except GitCommandError:
                pass
        if self.folder.exists():
            await asyncio.to_thread(shutil.rmtree, self.folder)
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        repo = await self.git.clone(self.clone_url, self.folder)
        await repo.configure_identity(*self.identity)
        return repo

    async def merge_into_batch(self, action: act.MergeIntoBatch) -> BatchMergeResult:
        """Merge ``source_sha`` into the batch branch and push it; contained already → no-op."""
        async with self._lock:
            return await self._merge_into_batch(action)

    async def _merge_into_batch(self, action: act.MergeIntoBatch) -> BatchMergeResult:
        repo = await self.repository()
        result = _MergeResults(action)
        remote = f"refs/remotes/origin/{action.branch}"
        head = await _resolve(repo, remote)
        if head is None:
            return result.failed("the batch branch does not exist")
        if await _resolve(repo, action.source_sha) is None:
            await _fetch_merge_request_head(repo, action.iid)
            if await _resolve(repo, action.source_sha) is None:
                return result.failed(f"commit {action.source_sha[:12]} is not in the repository")
        if await _is_ancestor(repo, action.source_sha, head):
            return result.merged(head)  # a replay: the member is in the branch already
        await repo.checkout(head, detach=True, force=True)
        await repo.run("clean", "-fdq")
        outcome = await repo.merge(action.source_sha, f"Merge !{action.iid} into {action.branch}")
        if not outcome.ok:
            return result.conflict(head, outcome.conflicts)
        assert outcome.sha is not None
        try:
            await repo.push(outcome.sha, branch=action.branch, force_with_lease=head)
        except GitPushRejected as error:
            return result.failed(f"the batch branch moved while merging ({error})")
        return result.merged(outcome.sha)

    async def push_target(self, action: act.PushTarget) -> PushResult:
        """Move the target to ``sha`` if still at ``expected_old_sha``; at ``sha`` → pushed."""
        async with self._lock:
            return await self._push_target(action)

    async def _push_target(self, action: act.PushTarget) -> PushResult:
        repo = await self.repository()
        current = await _resolve(repo, f"refs/remotes/origin/{action.target_branch}")
        if current == action.sha:
            return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=action.sha)
        if current != action.expected_old_sha:
            return PushResult(
                attempt_id=action.attempt_id,
                status="stale",
                new_sha=current,
                message="the target branch moved",
            )
        if await _resolve(repo, action.sha) is None:
            return PushResult(
                attempt_id=action.attempt_id,
                status="failed",
                message=f"commit {action.sha[:12]} is not in the repository",
            )
        try:
            await repo.push(
                action.sha, branch=action.target_branch, force_with_lease=action.expected_old_sha
            )
        except GitPushRejected as error:
            await repo.fetch([ALL_BRANCHES], prune=True)
            now = await _resolve(repo, f"refs/remotes/origin/{action.target_branch}")
            if now == action.sha:
                return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=now)
            return PushResult(
                attempt_id=action.attempt_id, status="stale", new_sha=now, message=str(error)
            )
        return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=action.sha)


class _MergeResults:
    """Builds the ``BatchMergeResult`` of one action."""

    def __init__(self, action: act.MergeIntoBatch) -> None:
        self.action = action

    def merged(self, sha: str) -> BatchMergeResult:
        return self._result("merged", sha)

    def conflict(self, head: str, paths: tuple[str, ...]) -> BatchMergeResult:
        return self._result("conflict", head, "conflicts in " + ", ".join(paths[:10]))

    def failed(self, message: str) -> BatchMergeResult:
        return self._result("failed", None, message)

    def _result(self, status: str, sha: str | None, message: str = "") -> BatchMergeResult:
        return BatchMergeResult.model_validate(
            {
                "attempt_id": self.action.attempt_id,
                "iid": self.action.iid,
                "status": status,
                "prefix_sha": sha,
                "message": message,
            }
        )


async def _resolve(repo: GitRepository, rev: str) -> str | None:
    try:
        return await repo.rev_parse(f"{rev}^{{commit}}")
    except GitCommandError:
        return None


async def _is_ancestor(repo: GitRepository, ancestor: str, descendant: str) -> bool:
    result = await repo.run("merge-base", "--is-ancestor", ancestor, descendant, check=False)
    return result.returncode == 0


async def _fetch_merge_request_head(repo: GitRepository, iid: int) -> None:
    """MRs from forks: GitLab keeps their head under ``refs/merge-requests/<iid>/head``."""
    ref = f"+refs/merge-requests/{iid}/head:refs/remotes/origin/merge-requests/{iid}"
    # Not served (or no such MR): the caller reports the missing commit.
    with contextlib.suppress(GitCommandError):
        await repo.fetch([ref])
