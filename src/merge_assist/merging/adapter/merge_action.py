"""The ``MergeMR`` action: ``PUT .../merge`` pinned to the tested head, and what GitLab's
answer means for the queue (GitLab 17/18: 409 ``sha`` first, 405 not mergeable, 422 the merge
itself failed)."""

from __future__ import annotations

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import (
    GitLabConflict,
    GitLabMergeFailed,
    GitLabNotMergeable,
    GitLabUnavailable,
)
from merge_assist.gitlab.models import MergeRequest
from merge_assist.merging.adapter.target import PortTarget
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import MergeResult

# detailed_merge_status values meaning "GitLab is still working it out", not a refusal.
STILL_CHECKING = frozenset({"checking", "unchecked", "preparing", "approvals_syncing"})


async def merge_mr(client: GitLabClient, target: PortTarget, action: act.MergeMR) -> MergeResult:
    """Merge with ``sha`` pinned, after checking the target is still where it was tested."""
    project, iid = target.project_id, action.iid
    mr = await client.get_merge_request(project, iid)
    settled = _settled(mr, action)
    if settled is not None:
        return settled
    if await _target_moved(client, target, mr, action):
        return MergeResult(iid=iid, status="target_moved", message="the target branch moved")
    try:
        message = skip_ci_message(mr) if action.skip_ci else None
        merged = await client.merge_merge_request(
            project, iid, sha=action.sha, merge_commit_message=message
        )
    except GitLabConflict as error:
        return MergeResult(iid=iid, status="sha_mismatch", message=str(error))
    except GitLabMergeFailed as error:
        return await _after_failed_merge(client, target, action, str(error))
    except GitLabNotMergeable as error:
        return await _after_refusal(client, target, action, str(error))
    except GitLabUnavailable:
        # Ambiguous: the merge may have happened. Look before letting the runner retry.
        again = _settled(await client.get_merge_request(project, iid), action)
        if again is not None and again.status == "merged":
            return again
        raise
    return MergeResult(iid=iid, status="merged", merge_sha=_landed_sha(merged))


async def _target_moved(
    client: GitLabClient, target: PortTarget, mr: MergeRequest, action: act.MergeMR
) -> bool:
    """The target is no longer where the merge was tested (read fresh, never observed)."""
    if action.expected_target_sha is None:
        return False
    head = await client.get_branch(target.project_id, mr.target_branch)
    return head.commit is None or head.commit.id != action.expected_target_sha


def skip_ci_message(mr: MergeRequest) -> str:
    """GitLab's own merge commit message, with ``[skip ci]``: the tree passed CI already (a
    fast-forward makes no merge commit, and GitLab then runs its pipeline)."""
    return (
        f"Merge branch '{mr.source_branch}' into '{mr.target_branch}'\n\n{mr.title}\n\n"
        f"[skip ci] Merge Assist: this tree passed CI before it landed.\n\n"
        f"See merge request !{mr.iid}"
    )


def _landed_sha(mr: MergeRequest) -> str | None:
    """The commit the merge put on the target: the merge commit, else (a fast-forward, where
    GitLab leaves ``merge_commit_sha`` null) the squash commit or the head itself."""
    return mr.merge_commit_sha or mr.squash_commit_sha or mr.sha


def _settled(mr: MergeRequest, action: act.MergeMR) -> MergeResult | None:
    """The answer without merging: merged already, closed, or the head moved."""
    if mr.state == "merged":
        return MergeResult(iid=mr.iid, status="merged", merge_sha=_landed_sha(mr))
    if mr.state != "opened":
        return MergeResult(iid=mr.iid, status="not_mergeable", message=f"the MR is {mr.state}")
    if mr.sha != action.sha:
        return MergeResult(iid=mr.iid, status="sha_mismatch", message="the head moved")
    return None


async def _after_failed_merge(
    client: GitLabClient, target: PortTarget, action: act.MergeMR, reason: str
) -> MergeResult:
    """422: GitLab accepted the merge but it failed (the target moved under it, a git error).
    Merged meanwhile or moved is told as such; otherwise a failure to retry, never a block."""
    mr = await client.get_merge_request(target.project_id, action.iid)
    settled = _settled(mr, action)
    if settled is not None:
        return settled
    if await _target_moved(client, target, mr, action):
        return MergeResult(iid=action.iid, status="target_moved", message=reason)
    return MergeResult(iid=action.iid, status="failed", message=reason)


async def _after_refusal(
    client: GitLabClient, target: PortTarget, action: act.MergeMR, reason: str
) -> MergeResult:
    """405 (406 before GitLab 16): merged meanwhile (a replay), moved, or really not
    mergeable."""
    mr = await client.get_merge_request(target.project_id, action.iid)
    settled = _settled(mr, action)
    if settled is not None:
        return settled
    if mr.detailed_merge_status in STILL_CHECKING:
        # GitLab had not finished checking (right after a push): try again, do not block.
        return MergeResult(iid=action.iid, status="failed", message=reason)
    return MergeResult(iid=action.iid, status="not_mergeable", message=reason)
