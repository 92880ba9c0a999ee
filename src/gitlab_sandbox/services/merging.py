"""Accepting merge requests (merge, semi-linear, fast-forward; squash), auto-merge, rebase."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from gitlab_sandbox.git.objects import GitError, MergeConflict, RefMoved
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.mergeability import (
    ACTIVE_PIPELINE_STATUSES,
    MERGE_FAILED,
    NOT_ALLOWED,
    MergeRefusal,
    detailed_merge_status,
    refusal,
    sha_mismatch_message,
)
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events
from gitlab_sandbox.services.accounts import identity_of
from gitlab_sandbox.services.merge_requests import merge_facts, refresh_facts, squash_default
from gitlab_sandbox.services.permissions import can_merge, can_push
from gitlab_sandbox.services.pushes import BranchUpdate, branches_updated, mark_merged
from gitlab_sandbox.store import MergeRequest, Project, User

log = logging.getLogger("gitlab_sandbox.merging")

REBASE_FAILED = "Rebase failed: Rebase locally, resolve all conflicts, then push the branch."


class MergeRefused(Exception):
    """The merge API refuses: GitLab's status code and message."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message

    @classmethod
    def of(cls, value: MergeRefusal) -> MergeRefused:
        return cls(value.status_code, value.message)


@dataclass(frozen=True)
class MergeOptions:
    """The parameters of ``PUT /merge_requests/:iid/merge``."""

    sha: str | None = None
    squash: bool | None = None
    squash_commit_message: str | None = None
    merge_commit_message: str | None = None
    should_remove_source_branch: bool | None = None
    auto_merge: bool = False


@dataclass(frozen=True)
class Landing:
    """What a merge did to the target branch."""

    target_old: str
    target_new: str
    merge_commit_sha: str | None
    squash_commit_sha: str | None


async def accept(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, options: MergeOptions
) -> MergeRequest:
    """Merge now, or set auto-merge when asked and the MR cannot merge yet.

    The order of ``PUT .../merge`` on GitLab 17/18: 401 (may not merge), 409 (``sha`` is not
    the head, checked first), 405 (not mergeable, whatever the reason), 422 (the merge itself
    failed, e.g. the target moved under it). With ``auto_merge`` (17.x "merge when checks
    pass", ``app/services/auto_merge/merge_when_checks_pass_service.rb``) any MR that is not
    mergeable yet, or whose head pipeline still runs, is set to merge once every check passes:
    a draft, unapproved or unresolved one too.
    """
    if not can_merge(sandbox, project, user, mr.target_branch):
        raise MergeRefused(401, "401 Unauthorized")
    async with sandbox.store.project_lock(project.id):
        await refresh_facts(sandbox, project, mr)
        if options.sha and options.sha != mr.sha:
            raise MergeRefused(409, sha_mismatch_message(mr.sha))
        facts = merge_facts(sandbox, project, mr)
        # The merge API checks mergeability synchronously: no "checking" window here.
        status = detailed_merge_status(
            replace(
                facts, checking=False, unchecked=False, preparing=False, approvals_syncing=False
            )
        )
        head = sandbox.store.pipeline_for_mr(mr)
        head_active = head is not None and head.status in ACTIVE_PIPELINE_STATUSES
        if mr.state != "opened":
            raise MergeRefused.of(NOT_ALLOWED)
        if options.auto_merge and (head_active or status != "mergeable"):
            return _set_auto_merge(sandbox, project, mr, user, options, status)
        found = refusal(status, auto_merge=False)
        if found is not None:
            raise MergeRefused.of(found)
        landing = await _land(sandbox, project, mr, user, options)
        mark_merged(
            sandbox,
            mr,
            merge_commit_sha=landing.merge_commit_sha,
            merged_by=user,
            squash_commit_sha=landing.squash_commit_sha,
        )
    await _after_merge(sandbox, project, mr, user, options, landing)
    return mr


def _set_auto_merge(
    sandbox: Sandbox,
    project: Project,
    mr: MergeRequest,
    user: User,
    options: MergeOptions,
    status: str,
) -> MergeRequest:
    found = refusal(status, auto_merge=True)
    if found is not None:
        raise MergeRefused.of(found)
    mr.merge_when_pipeline_succeeds = True
    mr.merge_user_id = user.id
    mr.merge_params = {
        "squash": options.squash,
        "squash_commit_message": options.squash_commit_message,
        "merge_commit_message": options.merge_commit_message,
        "should_remove_source_branch": options.should_remove_source_branch,
        "sha": options.sha,
    }
    mr.updated_at = sandbox.now()
    events.merge_request_event(sandbox, project, mr, "update", user)
    return mr


def default_merge_message(project: Project, mr: MergeRequest) -> str:
    """GitLab's default merge commit message."""
    return (
        f"Merge branch '{mr.source_branch}' into '{mr.target_branch}'\n\n{mr.title}\n\n"
        f"See merge request {project.path_with_namespace}!{mr.iid}"
    )


async def _land(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, options: MergeOptions
) -> Landing:
    repo = sandbox.repo(project)
    method = project.settings.merge_method
    squash = squash_default(project, mr.squash if options.squash is None else options.squash)
    author = sandbox.store.users.get(mr.author_id) or user

    def land() -> Landing:
        target = repo.branch_sha(mr.target_branch)
        source = mr.sha
        if target is None or source is None or repo.resolve(source) is None:
            raise MergeRefused.of(MERGE_FAILED)
        head, squash_sha = source, None
        if squash:
            squash_sha = _squash_commit(repo, target, mr, options, (author, user))
            head = squash_sha or source
        if method in ("ff", "rebase_merge") and not repo.is_ancestor(target, head):
            raise MergeRefused.of(MERGE_FAILED)
        if method == "ff":
            # A fast-forward makes no merge commit: GitLab leaves merge_commit_sha null.
            new_target, merge_sha = head, None
        else:
            message = options.merge_commit_message or default_merge_message(project, mr)
            new_target = repo.merge(target, head, message, identity_of(user)).id
            merge_sha = new_target
        repo.set_branch(mr.target_branch, new_target, expected_old=target)
        return Landing(target, new_target, merge_sha, squash_sha)

    try:
        return await asyncio.to_thread(land)
    except (MergeConflict, RefMoved):
        # A conflict, or the target moved under the merge (a concurrent push): the merge
        # itself failed, which GitLab 16+ answers with 422.
        raise MergeRefused.of(MERGE_FAILED) from None
    except GitError as error:
        mr.merge_error = error.message
        raise MergeRefused(422, error.message) from None


def _squash_commit(
    repo: BareRepo,
    target: str,
    mr: MergeRequest,
    options: MergeOptions,
    people: tuple[User, User],
) -> str | None:
    """The squash commit to land (by author, committed by user), or None to land the source.

    A single commit with no custom message is kept as it is, as GitLab does.
    """
    source = mr.sha
    assert source is not None  # checked by the caller
    if len(repo.commits_between(target, source)) <= 1 and not options.squash_commit_message:
        return None
    author, user = people
    base = repo.merge_base(target, source) or target
    message = options.squash_commit_message or mr.title
    return repo.squash(base, source, message, identity_of(author), identity_of(user)).id


async def _after_merge(
    sandbox: Sandbox,
    project: Project,
    mr: MergeRequest,
    user: User,
    options: MergeOptions,
    landing: Landing,
) -> None:
    events.merge_request_event(sandbox, project, mr, "merge", user)
    updates = [BranchUpdate(mr.target_branch, landing.target_old, landing.target_new)]
    remove = options.should_remove_source_branch
    if remove is None:
        remove = mr.force_remove_source_branch or bool(mr.should_remove_source_branch)
    if remove and can_push(sandbox, project, user, mr.source_branch):
        repo = sandbox.repo(project)
        old = await asyncio.to_thread(repo.branch_sha, mr.source_branch)
        if old is not None:
            try:
                await asyncio.to_thread(repo.delete_branch, mr.source_branch)
                updates.append(BranchUpdate(mr.source_branch, old, None))
            except GitError:
                log.info("source branch %s was not removed", mr.source_branch)
    await branches_updated(sandbox, project, updates, user, how="merge")


async def request_rebase(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, *, skip_ci: bool
) -> None:
    """Start an asynchronous rebase of the MR's source branch onto its target."""
    if not can_push(sandbox, project, user, mr.source_branch):
        raise MergeRefused(403, "403 Forbidden")
    if mr.state != "opened":
        raise MergeRefused(403, "403 Forbidden")
    if mr.rebase_in_progress:
        raise MergeRefused(409, "Rebase task is already in progress")
    mr.rebase_in_progress = True
    mr.merge_error = None
    sandbox.spawn(_rebase(sandbox, project, mr, user, skip_ci), name=f"rebase-{mr.id}")


async def _rebase(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user: User, skip_ci: bool
) -> None:
    try:
        await sandbox.clock.sleep(sandbox.rebase_seconds())
        repo = sandbox.repo(project)

        def rebase() -> tuple[str, str] | None:
            target = repo.branch_sha(mr.target_branch)
            source = repo.branch_sha(mr.source_branch)
            if target is None or source is None:
                raise GitError("Source or target branch is missing.")
            new = repo.rebase(target, source, identity_of(user)).id
            if new == source:
                return None
            repo.set_branch(mr.source_branch, new, expected_old=source)
            return source, new

        async with sandbox.store.project_lock(project.id):
            try:
                moved = await asyncio.to_thread(rebase)
            except (GitError, RefMoved):
                mr.merge_error = REBASE_FAILED
                return
        if moved is not None:
            mr.rebase_commit_sha = moved[1]
            update = BranchUpdate(mr.source_branch, moved[0], moved[1])
            await branches_updated(
                sandbox, project, [update], user, run_pipelines=not skip_ci, how="rebase"
            )
    finally:
        mr.rebase_in_progress = False
