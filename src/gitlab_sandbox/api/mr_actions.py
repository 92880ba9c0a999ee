"""MR actions: approvals, merge, auto-merge cancel, rebase."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render_mr
from gitlab_sandbox.api.deps import (
    ParamsDep,
    ReaderDep,
    SandboxDep,
    WriterDep,
    merge_request_for,
    project_for,
)
from gitlab_sandbox.api.errors import ApiError, unauthorized
from gitlab_sandbox.api.merge_requests import rendered
from gitlab_sandbox.mergeability import sha_mismatch_message
from gitlab_sandbox.services import events
from gitlab_sandbox.services.auto_merge import process_auto_merge
from gitlab_sandbox.services.merge_requests import approvals_left, refresh_facts
from gitlab_sandbox.services.merging import MergeOptions, MergeRefused, accept, request_rebase
from gitlab_sandbox.store import AccessLevel, Approval

router = APIRouter()

MR = "/projects/{project_id}/merge_requests/{iid}"


@router.get(MR + "/approvals")
async def get_approvals(
    project_id: str, iid: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    await refresh_facts(sandbox, project, mr)
    return render_mr.approvals(sandbox, project, mr, caller.user)


@router.get(MR + "/approval_state")
async def get_approval_state(
    project_id: str, iid: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    return render_mr.approval_state(sandbox, project, merge_request_for(sandbox, project, iid))


@router.post(MR + "/approve", status_code=201)
async def approve(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Approve the MR (authors and repeat approvals are refused with 401, as GitLab)."""
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    await refresh_facts(sandbox, project, mr)
    sha = params.str("sha")
    if sha and sha != mr.sha:
        raise ApiError(409, sha_mismatch_message(mr.sha))
    user = caller.user
    if (
        mr.state != "opened"
        or user.id == mr.author_id
        or any(a.user_id == user.id for a in mr.approvals)
    ):
        raise unauthorized()
    mr.approvals.append(Approval(user.id, sandbox.now()))
    if user.id in mr.reviewer_ids:  # an approval replaces a request for changes
        mr.reviewer_states[user.id] = "approved"
    mr.updated_at = sandbox.now()
    # EE's ExecuteApprovalHooksService: "approved" once no approval is left, else "approval".
    action = "approved" if approvals_left(project, mr) == 0 else "approval"
    events.merge_request_event(sandbox, project, mr, action, user)
    answer = render_mr.approvals(sandbox, project, mr, user)
    await process_auto_merge(sandbox, project, mr)
    return answer


@router.post(MR + "/unapprove", status_code=201)
async def unapprove(
    project_id: str, iid: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    if not any(a.user_id == caller.user.id for a in mr.approvals):
        raise ApiError(404, "404 Not Found")
    was_approved = approvals_left(project, mr) == 0
    mr.approvals = [a for a in mr.approvals if a.user_id != caller.user.id]
    if caller.user.id in mr.reviewer_ids:
        mr.reviewer_states[caller.user.id] = "unapproved"
    mr.updated_at = sandbox.now()
    # EE's RemoveApprovalService: "unapproved" when the MR stops being approved.
    still_approved = approvals_left(project, mr) == 0
    action = "unapproved" if was_approved and not still_approved else "unapproval"
    events.merge_request_event(sandbox, project, mr, action, caller.user)
    return render_mr.approvals(sandbox, project, mr, caller.user)


@router.put(MR + "/merge")
async def merge(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Accept the MR; 401, 409 (``sha``, first), 405 (not mergeable), 422 (merge failed)."""
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    auto = bool(
        params.bool("merge_when_pipeline_succeeds", False) or params.bool("auto_merge", False)
    )
    options = MergeOptions(
        sha=params.str("sha"),
        squash=params.bool("squash"),
        squash_commit_message=params.str("squash_commit_message"),
        merge_commit_message=params.str("merge_commit_message"),
        should_remove_source_branch=params.bool("should_remove_source_branch"),
        auto_merge=auto,
    )
    try:
        await accept(sandbox, project, mr, caller.user, options)
    except MergeRefused as refused:
        raise ApiError(refused.status_code, refused.message) from None
    return await rendered(sandbox, project, mr, caller)


@router.post(MR + "/cancel_merge_when_pipeline_succeeds", status_code=201)
async def cancel_auto_merge(
    project_id: str, iid: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    if not mr.merge_when_pipeline_succeeds:
        raise ApiError(406, "Can't cancel the automatic merge")
    mr.merge_when_pipeline_succeeds = False
    mr.merge_params = {}
    mr.updated_at = sandbox.now()
    return await rendered(sandbox, project, mr, caller)


@router.put(MR + "/rebase", status_code=202)
async def rebase(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> JSONResponse:
    """Start an asynchronous rebase; poll ``include_rebase_in_progress`` for the end."""
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    try:
        await request_rebase(
            sandbox, project, mr, caller.user, skip_ci=bool(params.bool("skip_ci", False))
        )
    except MergeRefused as refused:
        raise ApiError(refused.status_code, refused.message) from None
    return JSONResponse({"rebase_in_progress": True}, status_code=202)
