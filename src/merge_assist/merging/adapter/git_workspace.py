"""The port's local git clone: building batch branches (one push each) and compare-and-swap pushes.

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
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import BatchBuildResult, BuiltMember, PushResult

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

    async def build_batch(self, action: act.BuildBatch) -> BatchBuildResult:
        """Merge the members onto ``base_sha`` locally and push the batch branch once."""
        async with self._lock:
            return await self._build_batch(action)

    async def _build_batch(self, action: act.BuildBatch) -> BatchBuildResult:
        repo = await self.repository()
        missing = await _missing_commit(repo, action)
        if missing is not None:
            return _build_failed(action, missing)
        remote = await _resolve(repo, f"refs/remotes/origin/{action.branch}")
        if remote is not None:
            kept = await _built_already(repo, action, remote)
            if kept is not None:
                return kept  # a replay: this exact build was pushed before, push nothing
        head, members = await _merge_members(repo, action)
        try:
            await repo.push(head, branch=action.branch, force_with_lease=remote or "")
        except GitPushRejected as error:
            return _build_failed(action, f"the batch branch moved while it was built ({error})")
        return _built(action, head, members)

    async def push_target(self, action: act.PushTarget) -> PushResult:
        """Move the target to ``sha`` if still at ``expected_old_sha``; at ``sha`` → pushed."""
        async with self._lock:
            return await self._push_target(action)

    async def _push_target(self, action: act.PushTarget) -> PushResult:
        repo = await self.repository()
        current = await _resolve(repo, f"refs/remotes/origin/{action.target_branch}")
        if current == action.sha:
            return PushResult(attempt_id=action.attempt_id, status="pushed", new_sha=action.sha)
        if current is not None and await _landed_beneath(repo, action, current):
            # A replay after a crash: this landing went through and the next car's is on it.
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
                action.sha,
                branch=action.target_branch,
                force_with_lease=action.expected_old_sha,
                push_options=("ci.skip",) if action.skip_ci else (),
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


async def _landed_beneath(repo: GitRepository, action: act.PushTarget, current: str) -> bool:
    """The target moved past ``sha`` from ``expected_old_sha``: ``sha`` (our tested commit, on
    top of the old target) is in its history, with the next landing on top of it."""
    if current == action.expected_old_sha or await _resolve(repo, action.sha) is None:
        return False
    return await _is_ancestor(repo, action.expected_old_sha, action.sha) and await _is_ancestor(
        repo, action.sha, current
    )


def _built(action: act.BuildBatch, head: str, members: list[BuiltMember]) -> BatchBuildResult:
    return BatchBuildResult(
        attempt_id=action.attempt_id, status="built", sha=head, members=tuple(members)
    )


def _build_failed(action: act.BuildBatch, message: str) -> BatchBuildResult:
    return BatchBuildResult(attempt_id=action.attempt_id, status="failed", message=message)


async def _built_already(
    repo: GitRepository, action: act.BuildBatch, head: str
) -> BatchBuildResult | None:
    """The result of an earlier build of the same action, read off the pushed branch: its
    first-parent chain from ``base_sha`` holds one merge per member, in order, and nothing
    else. None when the branch is anything else (then it is built again)."""
    listed = await repo.run(
        "rev-list", "--first-parent", "--reverse", "--parents", f"{action.base_sha}..{head}",
        check=False,
    )  # fmt: skip
    if listed.returncode != 0 or not await _is_ancestor(repo, action.base_sha, head):
        return None
    chain = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    merged_source = {parents[2]: parents[0] for parents in chain if len(parents) == 3}
    if len(merged_source) != len(chain):
        return None  # a commit that is not one of our merges
    members, prefix, used = [], action.base_sha, 0
    for member in action.members:
        commit = merged_source.get(member.source_sha)
        if commit is not None:
            prefix, used = commit, used + 1
        elif not await _is_ancestor(repo, member.source_sha, prefix):
            # Not in the branch: it conflicted then, or that build had other members (the
            # same attempt id planned again after a lost step). Only a build again can tell.
            return None
        members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=prefix))
    if used != len(chain):
        return None
    return _built(action, head, members)


async def _missing_commit(repo: GitRepository, action: act.BuildBatch) -> str | None:
    """Why the batch cannot be built from what the clone holds (a member's commit is fetched
    from its MR first); None when every commit is there."""
    for member in action.members:
        if await _resolve(repo, member.source_sha) is None:
            await _fetch_merge_request_head(repo, member.iid)
            if await _resolve(repo, member.source_sha) is None:
                return f"commit {member.source_sha[:12]} of !{member.iid} is not in the repository"
    if await _resolve(repo, action.base_sha) is None:
        return f"the base {action.base_sha[:12]} is not in the repository"
    return None


async def _merge_members(
    repo: GitRepository, action: act.BuildBatch
) -> tuple[str, list[BuiltMember]]:
    """Merge the members one by one onto ``base_sha`` (a conflicting one is left out); the
    head reached and what became of each member."""
    await repo.checkout(action.base_sha, detach=True, force=True)
    await repo.run("clean", "-fdq")
    head, members = action.base_sha, []
    for member in action.members:
        if await _is_ancestor(repo, member.source_sha, head):
            members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=head))
            continue
        message = f"Merge !{member.iid} into {action.branch}"
        outcome = await repo.merge(
            member.source_sha, f"{message} [skip ci]" if action.skip_ci else message
        )
        if not outcome.ok:
            members.append(BuiltMember(iid=member.iid, status="conflict", prefix_sha=head))
            continue
        assert outcome.sha is not None
        head = outcome.sha
        members.append(BuiltMember(iid=member.iid, status="merged", prefix_sha=head))
    return head, members


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
