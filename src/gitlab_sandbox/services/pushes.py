"""What GitLab does after a branch moves: pipelines, MR updates, merged detection, hooks.

Every way a branch can move (git push over HTTP, the commits API, branch create/delete, a merge
or a rebase) ends here, so the reactions are the same whichever door the change came through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from gitlab_sandbox.git.objects import ZERO_SHA, CommitInfo, GitError
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events, green
from gitlab_sandbox.services.merge_requests import (
    refresh_facts,
    start_checking,
    start_transient,
)
from gitlab_sandbox.services.pipelines import (
    create_merged_results_pipeline,
    create_pipeline,
    create_skipped_pipeline,
    skips_ci,
)
from gitlab_sandbox.store import MergeRequest, Project, User

MAX_PUSH_COMMITS = 100


@dataclass(frozen=True)
class BranchUpdate:
    """A branch moved from ``old`` to ``new`` (None: created / deleted)."""

    branch: str
    old: str | None
    new: str | None

    @classmethod
    def from_shas(cls, branch: str, old: str, new: str) -> BranchUpdate:
        """From git's notation where forty zeros mean "absent"."""
        return cls(branch, None if old == ZERO_SHA else old, None if new == ZERO_SHA else new)


async def branches_updated(
    sandbox: Sandbox,
    project: Project,
    updates: list[BranchUpdate],
    user: User | None,
    *,
    run_pipelines: bool = True,
    how: str = "push",
    push_options: Sequence[str] = (),
) -> None:
    """React to branch updates as GitLab's post-receive does (``how`` names the cause in
    the green-main record: push, merge, rebase, api; ``push_options`` are ``git push -o``'s)."""
    sandbox.store.touch(project, sandbox.now())
    skip_option = any(option.strip() == "ci.skip" for option in push_options)
    if sandbox.config.asynchronous:
        # GitLab's PostReceive worker reacts a moment after the push: until then the MR keeps
        # its old sha and head pipeline.
        sandbox.spawn(
            _react_later(sandbox, project, updates, user, run_pipelines, how, skip_option),
            name=f"post-receive-{project.id}",
        )
        return
    await _react(sandbox, project, updates, user, run_pipelines, how, skip_option)


async def _branch_updated(
    sandbox: Sandbox,
    project: Project,
    update: BranchUpdate,
    user: User | None,
    *,
    run_pipelines: bool,
    how: str,
    skip_option: bool = False,
) -> None:
    repo = sandbox.repo(project)
    commits: list[CommitInfo] = []
    if update.new is not None:
        commits = await asyncio.to_thread(_pushed_commits, sandbox, project, update)
        if run_pipelines:
            _push_pipeline(sandbox, project, update, user, commits, skip_option)
        if sandbox.store.protection_for(project, update.branch) is not None or (
            update.branch == project.default_branch
        ):
            tree_id = await asyncio.to_thread(repo.tree_id, update.new)
            green.record_tip(sandbox, project, update.branch, update.new, tree_id, how)
    events.push_event(sandbox, project, user, update.branch, update.old, update.new, commits)
    for mr in sandbox.store.open_merge_requests(project.id):
        if mr.source_branch == update.branch:
            await _source_moved(sandbox, project, mr, user)
        elif mr.target_branch == update.branch:
            await _target_moved(sandbox, project, mr, update, user)


# With the ``asynchronous`` option: simulated seconds before a push's reactions run.
ASYNC_POST_RECEIVE_SECONDS = 1.0


async def _react_later(
    sandbox: Sandbox,
    project: Project,
    updates: list[BranchUpdate],
    user: User | None,
    run_pipelines: bool,
    how: str,
    skip_option: bool,
) -> None:
    await sandbox.clock.sleep(ASYNC_POST_RECEIVE_SECONDS)
    await _react(sandbox, project, updates, user, run_pipelines, how, skip_option)


async def _react(
    sandbox: Sandbox,
    project: Project,
    updates: list[BranchUpdate],
    user: User | None,
    run_pipelines: bool,
    how: str,
    skip_option: bool,
) -> None:
    for update in updates:
        await _branch_updated(
            sandbox,
            project,
            update,
            user,
            run_pipelines=run_pipelines,
            how=how,
            skip_option=skip_option,
        )


def _push_pipeline(
    sandbox: Sandbox,
    project: Project,
    update: BranchUpdate,
    user: User | None,
    commits: list[CommitInfo],
    skip_option: bool,
) -> None:
    """The push pipeline of the new tip; ``skipped`` when the tip's message or a push option
    says so (``lib/gitlab/ci/pipeline/chain/skip.rb``)."""
    assert update.new is not None
    tip = next((c for c in commits if c.id == update.new), None)
    user_id = user.id if user else None
    if skip_option or (tip is not None and skips_ci(tip.message)):
        create_skipped_pipeline(
            sandbox, project, sha=update.new, ref=update.branch, user_id=user_id,
            before_sha=update.old,
        )  # fmt: skip
    else:
        create_pipeline(
            sandbox, project, sha=update.new, ref=update.branch, source="push",
            user_id=user_id, before_sha=update.old,
        )  # fmt: skip


def _pushed_commits(sandbox: Sandbox, project: Project, update: BranchUpdate) -> list[CommitInfo]:
    repo = sandbox.repo(project)
    assert update.new is not None
    if update.old is None:
        return repo.log(update.new, limit=1)
    try:
        return repo.commits_between(update.old, update.new)[-MAX_PUSH_COMMITS:]
    except Exception:  # force push onto unrelated history: report the new tip only
        return repo.log(update.new, limit=1)


async def _source_moved(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User | None
) -> None:
    """New code on the MR: new head, approvals reset if configured, re-check, ``update`` hook."""
    old_sha = mr.sha
    start_checking(sandbox, mr)
    await refresh_facts(sandbox, project, mr)
    if mr.sha == old_sha:
        return
    # A head made by GitLab's own rebase keeps the approvals: the change is the reviewed one.
    if project.settings.reset_approvals_on_push and mr.sha != mr.rebase_commit_sha:
        mr.approvals.clear()
    if project.settings.approvals_before_merge > 0:
        start_transient(sandbox, mr)
    mr.merge_error = None
    mr.updated_at = sandbox.now()
    if project.settings.merge_pipelines_enabled:  # the MR's pipeline tests the merged result
        await create_merged_results_pipeline(sandbox, project, mr, user.id if user else None)
    events.merge_request_event(sandbox, project, mr, "update", user, oldrev=old_sha)


async def _target_moved(
    sandbox: Sandbox, project: Project, mr: MergeRequest, update: BranchUpdate, user: User | None
) -> None:
    """The target moved: if it now contains the MR's head the MR is merged by the push (as
    GitLab's ``MergeRequests::RefreshService#post_merge_manually_merged`` marks it: the pusher
    is ``merged_by``, the commit that brought the head in is ``merge_commit_sha``); otherwise
    mergeability is re-checked."""
    repo = sandbox.repo(project)
    if update.new is not None and mr.sha is not None:
        contained = await asyncio.to_thread(repo.is_ancestor, mr.sha, update.new)
        if contained and mr.state == "opened":
            merge_sha = await asyncio.to_thread(merge_commit_of, repo, update, mr.sha)
            mark_merged(sandbox, mr, merge_commit_sha=merge_sha, merged_by=user)
            events.merge_request_event(sandbox, project, mr, "merge", user)
            return
    start_checking(sandbox, mr)
    await refresh_facts(sandbox, project, mr)


MAX_MAINLINE_WALK = 200


def merge_commit_of(repo: BareRepo, update: BranchUpdate, head: str) -> str:
    """The pushed commit that merged ``head`` (``Gitlab::BranchPushMergeCommitAnalyzer``):
    the oldest commit on the pushed first-parent line that contains it, which is ``head``
    itself after a fast-forward push and the merge commit after a merge pushed by hand."""
    assert update.new is not None
    args = ["rev-list", "--first-parent", f"--max-count={MAX_MAINLINE_WALK}", update.new]
    if update.old is not None:
        args += ["--not", update.old]
    try:
        _, out = repo.git(*args)
    except GitError:
        return head
    found = head
    for sha in out.decode().split():  # newest first
        if not repo.is_ancestor(head, sha):
            break
        found = sha
    return found


def mark_merged(
    sandbox: Sandbox,
    mr: MergeRequest,
    *,
    merge_commit_sha: str | None,
    merged_by: User | None,
    squash_commit_sha: str | None = None,
) -> None:
    """Record an MR as merged."""
    now = sandbox.now()
    mr.state = "merged"
    mr.merge_commit_sha = merge_commit_sha
    mr.squash_commit_sha = squash_commit_sha
    mr.merged_by_id = merged_by.id if merged_by else None
    mr.merge_user_id = merged_by.id if merged_by else None
    mr.merged_at = now
    mr.updated_at = now
    mr.merge_when_pipeline_succeeds = False
    mr.merge_error = None
    mr.rebase_in_progress = False
