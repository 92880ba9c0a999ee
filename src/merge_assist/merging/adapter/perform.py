"""Performing the engine's actions on merge requests, pipelines and branches through the REST API.

``GitLabActions.perform`` is the port's acting half (``GitLabQueuePort`` is one): it looks the
action's performer up in a table keyed by action type. The two git actions (``BuildBatch``,
``PushTarget``) go to the port's ``BatchWorkspace`` (``adapter.git_workspace``).

Each function is idempotent the way ``docs/merge-engine.md`` (executor section) describes: it
reads GitLab first where a blind repeat would do harm (comments, merges, rebases, batch MRs,
pipelines) and sets state where repeating is harmless (labels, assignments, closing).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import (
    GitLabConflict,
    GitLabForbidden,
    GitLabNotFound,
    GitLabRebaseTimeout,
    GitLabUnavailable,
    GitLabValidationError,
)
from merge_assist.gitlab.git import GitCommandError
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery, NewMergeRequest
from merge_assist.gitlab.models import MergeRequest
from merge_assist.merging.adapter.git_workspace import BatchWorkspace
from merge_assist.merging.adapter.merge_action import merge_mr
from merge_assist.merging.adapter.observe import QueueObserver
from merge_assist.merging.adapter.pipeline_retry import retry_pipeline
from merge_assist.merging.adapter.target import PortTarget, RebaseWait
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.comments import marker
from merge_assist.merging.engine.observations import (
    ActionResult,
    BatchBuildResult,
    BatchMRResult,
    PipelineResult,
    PipelineRetryResult,
    PushResult,
    RebaseResult,
    pipeline_verdict,
)

log = logging.getLogger("merge_assist.merging.port")

REBASE_CONFLICT_WORDS = ("conflict", "rebase locally")


class GitLabActions:
    """Performs the engine's actions on one (project, target branch) as the bot.

    ``observer`` knows the bot's user (read once); ``workspace`` is the local clone for the
    git actions.
    """

    def __init__(
        self,
        client: GitLabClient,
        observer: QueueObserver,
        workspace: BatchWorkspace,
        *,
        project_id: int,
        target_branch: str,
        batch_branch_prefix: str,
        rebase_wait: RebaseWait = RebaseWait(),
        train_branch_prefix: str = "merge-assist/train",
    ) -> None:
        self.client = client
        self.observer = observer
        self.workspace = workspace
        self.target_branch = target_branch
        self.rebase_wait = rebase_wait
        self._project_id = project_id
        self._batch_branch_prefix = batch_branch_prefix
        self._train_branch_prefix = train_branch_prefix

    async def perform(self, action: act.Action) -> ActionResult | None:
        """Perform one action idempotently; ``RecordHistory`` and ``Wait`` are the runner's.

        GitLab failures raise ``GitLabError``; a git command failing for another reason than
        a conflict or a refused push (network, time-out) is raised as ``GitLabUnavailable``
        too, so the runner retries the whole step either way.
        """
        performer = _PERFORMERS.get(type(action))
        try:
            target = await self._target()
            if performer is None:
                raise ValueError(f"`{action.kind}` is performed by the runner, not the port.")
            return await performer(self, target, action)
        except GitCommandError as error:
            raise GitLabUnavailable(str(error), operation=f"git.{action.kind}") from error

    async def _target(self) -> PortTarget:
        bot = await self.observer.bot()
        return PortTarget(
            project_id=self._project_id,
            target_branch=self.target_branch,
            bot_id=bot.id,
            batch_branch_prefix=self._batch_branch_prefix,
            rebase_wait=self.rebase_wait,
            train_branch_prefix=self._train_branch_prefix,
        )


async def add_labels(client: GitLabClient, target: PortTarget, action: act.AddLabels) -> None:
    """``add_labels`` and ``remove_labels`` in one update (both are idempotent in GitLab)."""
    if action.remove:
        await client.update_merge_request(
            target.project_id,
            action.iid,
            MergeRequestChanges(add_labels=action.labels, remove_labels=action.remove),
        )
    else:
        await client.update_merge_request(
            target.project_id, action.iid, MergeRequestChanges(add_labels=action.labels)
        )


async def remove_labels(client: GitLabClient, target: PortTarget, action: act.RemoveLabels) -> None:
    """``remove_labels`` (removing an absent label changes nothing)."""
    await client.update_merge_request(
        target.project_id, action.iid, MergeRequestChanges(remove_labels=action.labels)
    )


async def post_comment(client: GitLabClient, target: PortTarget, action: act.PostComment) -> None:
    """Post the body unless a note already carries the comment's hidden marker.

    Only the newest page of notes is read: a note of ours that a replay must not repeat was
    posted moments before the crash, so it is among the newest (the engine itself never
    emits a comment key twice outside such replays).
    """
    wanted = marker(action.comment_key)
    notes = await client.newest_notes(target.project_id, action.iid)
    if any(wanted in note.body for note in notes if not note.system):
        return
    await client.create_note(target.project_id, action.iid, action.body)


async def unassign(client: GitLabClient, target: PortTarget, action: act.Unassign) -> None:
    """Remove the bot from assignees and reviewers, keeping everyone else."""
    try:
        mr = await client.get_merge_request(target.project_id, action.iid)
    except GitLabNotFound:
        return  # a deleted MR has nobody assigned
    assignees = [user.id for user in mr.assignees]
    reviewers = [user.id for user in mr.reviewers]
    if target.bot_id not in assignees and target.bot_id not in reviewers:
        return
    await client.update_merge_request(
        target.project_id,
        action.iid,
        MergeRequestChanges(
            assignee_ids=[uid for uid in assignees if uid != target.bot_id],
            reviewer_ids=[uid for uid in reviewers if uid != target.bot_id],
        ),
    )


async def rebase(client: GitLabClient, target: PortTarget, action: act.Rebase) -> RebaseResult:
    """GitLab's rebase API, polled for a bounded time; already on ``onto_sha`` → done.

    "Done" only once the MR itself shows a head based on ``onto_sha``: GitLab updates the MR's
    ``sha`` and ``diff_refs`` a moment after its rebase ends (the push's PostReceive and
    ``MergeRequests::RefreshService`` run asynchronously), and a head read before that is the
    old one, which must never be tested or merged as the rebased head."""
    project, iid = target.project_id, action.iid
    mr = await client.get_merge_request(project, iid)
    if _based_on(mr, action.onto_sha) and not mr.rebase_in_progress:
        return RebaseResult(iid=iid, status="done", new_sha=mr.sha)
    if mr.sha != action.expected_head_sha and not mr.rebase_in_progress:
        # The author pushed since the engine looked: "done" would vouch for a head we did not
        # rebase. The next observation shows the push and the engine starts over.
        return RebaseResult(iid=iid, status="in_progress", message="the head moved")
    if not mr.rebase_in_progress and await _source_ahead_of_mr(client, project, mr):
        # The branch moved (our rebase, or a push) and GitLab has not refreshed the MR yet:
        # rebasing again would rebase a head nobody has seen. Look again later.
        return RebaseResult(iid=iid, status="in_progress", message=CATCHING_UP)
    if not mr.rebase_in_progress:
        # 409: a rebase is already running (ours, before a crash): wait for it.
        with contextlib.suppress(GitLabConflict):
            await client.rebase_merge_request(project, iid)
    try:
        mr = await client.wait_for_rebase(
            project,
            iid,
            max_wait=target.rebase_wait.max_seconds,
            interval=target.rebase_wait.poll_seconds,
        )
    except GitLabRebaseTimeout:
        return RebaseResult(iid=iid, status="in_progress")
    if mr.merge_error:
        conflict = any(word in mr.merge_error.lower() for word in REBASE_CONFLICT_WORDS)
        return RebaseResult(
            iid=iid, status="conflict" if conflict else "failed", message=mr.merge_error
        )
    if not _based_on(mr, action.onto_sha):
        # The rebase ended but the MR still shows its old head: the next step reads it again.
        return RebaseResult(iid=iid, status="in_progress", message=CATCHING_UP)
    return RebaseResult(iid=iid, status="done", new_sha=mr.sha)


CATCHING_UP = "GitLab has not shown the rebased head on the merge request yet"


def _based_on(mr: MergeRequest, onto_sha: str) -> bool:
    return mr.diff_refs is not None and mr.diff_refs.base_sha == onto_sha


async def _source_ahead_of_mr(client: GitLabClient, project: int, mr: MergeRequest) -> bool:
    """The source branch's tip is not the MR's ``sha`` (GitLab has not caught up with a push;
    a branch we may not read, in a fork, or a missing one counts as caught up: the merge
    request says what happens next)."""
    try:
        branch = await client.get_branch(mr.source_project_id or project, mr.source_branch)
    except (GitLabNotFound, GitLabForbidden):
        return False
    return branch.commit is not None and branch.commit.id != mr.sha


async def create_batch_mr(
    client: GitLabClient, target: PortTarget, action: act.CreateBatchMR
) -> BatchMRResult:
    """Open the batch MR, or answer with the open MR of that branch."""
    existing = await _open_mr_from(client, target, action.branch)
    if existing is None:
        try:
            existing = await client.create_merge_request(
                target.project_id,
                NewMergeRequest(
                    source_branch=action.branch,
                    target_branch=action.target_branch,
                    title=action.title,
                    description=action.description,
                    labels=action.labels,
                    remove_source_branch=False,
                ),
            )
        except (GitLabConflict, GitLabValidationError) as error:
            # "Another open merge request already exists for this source branch": ours.
            existing = await _open_mr_from(client, target, action.branch)
            if existing is None:
                log.warning("batch MR not opened", extra={"reason": str(error)})
                return BatchMRResult(attempt_id=action.attempt_id, status="failed")
    return BatchMRResult(
        attempt_id=action.attempt_id, status="created", iid=existing.iid, web_url=existing.web_url
    )


async def _open_mr_from(
    client: GitLabClient, target: PortTarget, branch: str
) -> MergeRequest | None:
    found = await client.list_merge_requests(
        target.project_id,
        MergeRequestQuery(source_branch=branch, target_branch=target.target_branch),
    )
    return found[0] if found else None


async def run_pipeline(
    client: GitLabClient, target: PortTarget, action: act.RunPipeline
) -> PipelineResult:
    """Reuse the newest pipeline of ``sha``; else start one on ``ref`` if ``ref`` is at ``sha``
    (a skipped one tested nothing: a pipeline started through the API ignores ``[skip ci]``,
    ``lib/api/ci/pipelines.rb``)."""
    project = target.project_id
    listed = await client.list_pipelines(project, sha=action.sha, limit=5)
    ran = [pipeline for pipeline in listed if pipeline.status != "skipped"]
    if ran:
        return PipelineResult(
            attempt_id=action.attempt_id, sha=action.sha, status="created", pipeline_id=ran[0].id
        )
    try:
        branch = await client.get_branch(project, action.ref)
    except GitLabNotFound:
        branch = None
    if branch is None or branch.commit is None or branch.commit.id != action.sha:
        # A pipeline on the ref would test another commit: nothing sensible to start.
        return PipelineResult(attempt_id=action.attempt_id, sha=action.sha, status="failed")
    pipeline = await client.create_pipeline(project, action.ref)
    return PipelineResult(
        attempt_id=action.attempt_id, sha=action.sha, status="created", pipeline_id=pipeline.id
    )


async def retry_failed_pipeline(
    client: GitLabClient, target: PortTarget, action: act.RetryPipeline
) -> PipelineRetryResult:
    """``POST pipelines/:id/retry`` unless that retry already ran (``adapter.pipeline_retry``)."""
    return await retry_pipeline(client, target.project_id, action)


async def cancel_pipeline(
    client: GitLabClient, target: PortTarget, action: act.CancelPipeline
) -> None:
    """``POST pipelines/:id/cancel`` (a pipeline gone already is fine); without an id, the
    unfinished pipelines of the sha on the attempt's branch."""
    ids = [action.pipeline_id] if action.pipeline_id is not None else []
    if action.pipeline_id is None:
        found = await client.list_pipelines(target.project_id, sha=action.sha, ref=action.ref)
        ids = [p.id for p in found if pipeline_verdict(p.status or "") == "running"]
    for pipeline_id in ids:
        try:
            await client.cancel_pipeline(target.project_id, pipeline_id)
        except GitLabNotFound:
            continue


async def close_batch_mr(
    client: GitLabClient, target: PortTarget, action: act.CloseBatchMR
) -> None:
    """Close the batch MR (closed, merged or gone already is fine)."""
    try:
        mr = await client.get_merge_request(target.project_id, action.iid)
    except GitLabNotFound:
        return
    if mr.state == "opened":
        await client.update_merge_request(
            target.project_id, action.iid, MergeRequestChanges(state_event="close")
        )


async def delete_branch(client: GitLabClient, target: PortTarget, action: act.DeleteBranch) -> None:
    """Close the open MRs from one of our batch branches, then delete it (missing is fine).

    Closing here too means a batch MR whose ``CreateBatchMR`` result was lost (so the engine
    never learnt its iid to emit ``CloseBatchMR``) is not left open.
    """
    check_batch_branch(target, action.branch)
    for mr in await client.list_merge_requests(
        target.project_id, MergeRequestQuery(source_branch=action.branch, state="opened")
    ):
        await client.update_merge_request(
            target.project_id, mr.iid, MergeRequestChanges(state_event="close")
        )
    await client.delete_branch(target.project_id, action.branch, missing_ok=True)


def check_batch_branch(target: PortTarget, branch: str) -> None:
    """Refuse to touch a branch outside the configured batch and train prefixes (a bug,
    never data)."""
    prefixes = tuple(
        p.rstrip("/") + "/" for p in (target.batch_branch_prefix, target.train_branch_prefix)
    )
    if not branch.startswith(prefixes) or ".." in branch:
        under = " or ".join(f"`{p}`" for p in prefixes)
        raise ValueError(f"Refusing to touch `{branch}`: it is not under {under}.")


async def build_batch(
    actions: GitLabActions, target: PortTarget, action: act.BuildBatch
) -> BatchBuildResult:
    """Build the batch branch in the local clone (only under the batch prefix)."""
    check_batch_branch(target, action.branch)
    return await actions.workspace.build_batch(action)


async def push_target(
    actions: GitLabActions, target: PortTarget, action: act.PushTarget
) -> PushResult:
    """Push the tested batch to this port's target branch (compare-and-swap)."""
    if action.target_branch != target.target_branch:
        raise ValueError(f"This port pushes `{target.target_branch}` only.")
    return await actions.workspace.push_target(action)


Performer = Callable[[GitLabActions, PortTarget, Any], Awaitable[ActionResult | None]]
RestCall = Callable[[GitLabClient, PortTarget, Any], Awaitable[ActionResult | None]]


def _rest(call: RestCall) -> Performer:
    """A REST function as a performer: it needs only the port's client."""
    return lambda actions, target, action: call(actions.client, target, action)


_PERFORMERS: dict[type[act.Action], Performer] = {
    act.AddLabels: _rest(add_labels),
    act.RemoveLabels: _rest(remove_labels),
    act.PostComment: _rest(post_comment),
    act.Unassign: _rest(unassign),
    act.Rebase: _rest(rebase),
    act.BuildBatch: build_batch,
    act.CreateBatchMR: _rest(create_batch_mr),
    act.RunPipeline: _rest(run_pipeline),
    act.RetryPipeline: _rest(retry_failed_pipeline),
    act.CancelPipeline: _rest(cancel_pipeline),
    act.MergeMR: _rest(merge_mr),
    act.PushTarget: push_target,
    act.CloseBatchMR: _rest(close_batch_mr),
    act.DeleteBranch: _rest(delete_branch),
}
"""Who performs each action the port performs (``RecordHistory`` and ``Wait`` are the runner's)."""
