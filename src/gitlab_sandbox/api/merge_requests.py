"""Merge requests: list (project and global), get, create, update, commits, changes, pipelines."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.commits import diff_json
from gitlab_sandbox.api.deps import (
    Caller,
    ParamsDep,
    ReaderDep,
    SandboxDep,
    WriterDep,
    merge_request_for,
    project_for,
)
from gitlab_sandbox.api.errors import ApiError, forbidden, invalid
from gitlab_sandbox.api.mr_filters import filter_merge_requests
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.api.params import Params
from gitlab_sandbox.api.render_mr import merge_request as render_mr
from gitlab_sandbox.api.render_mr import pipeline_basic
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events
from gitlab_sandbox.services.auto_merge import process_auto_merge
from gitlab_sandbox.services.merge_requests import (
    MergeRequestError,
    NewMergeRequest,
    create_merge_request,
    refresh_facts,
    request_check,
)
from gitlab_sandbox.services.mr_updates import update_merge_request
from gitlab_sandbox.services.pipelines import create_mr_pipeline
from gitlab_sandbox.store import (
    AccessLevel,
    DiffVersion,
    MergeRequest,
    Project,
    mr_pipeline_order,
)

router = APIRouter()


async def rendered(
    sandbox: Sandbox, project: Project, mr: MergeRequest, caller: Caller, *, detailed: bool = True
) -> dict[str, Any]:
    """The MR's JSON after bringing its mergeability facts up to date. With the
    ``asynchronous`` option a list shows what GitLab last computed (lists never recheck) and a
    single GET only asks for a check of an ``unchecked`` MR; the MR follows its branches when
    the push's reactions run."""
    if not sandbox.config.asynchronous:
        await refresh_facts(sandbox, project, mr)
    elif detailed:
        request_check(sandbox, mr)
    return render_mr(sandbox, project, mr, caller.user, detailed=detailed)


async def _page(
    request: Request, params: Params, sandbox: Sandbox, caller: Caller, mrs: list[MergeRequest]
) -> JSONResponse:
    page, headers = paginate(request, params, mrs)
    recheck = bool(params.bool("with_merge_status_recheck"))
    body = []
    for mr in page:
        project = sandbox.store.projects[mr.target_project_id]
        # ``with_merge_status_recheck`` asks GitLab to check the listed MRs (for callers with
        # at least the Developer role: the ``restrict_merge_status_recheck`` rule).
        if recheck and sandbox.store.access_level(project, caller.user) >= AccessLevel.DEVELOPER:
            request_check(sandbox, mr)
        body.append(await rendered(sandbox, project, mr, caller, detailed=False))
    return JSONResponse(body, headers=headers)


@router.get("/projects/{project_id}/merge_requests")
async def list_project_mrs(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    mrs = filter_merge_requests(
        sandbox, caller.user, sandbox.store.project_merge_requests(project.id), params, "all"
    )
    return await _page(request, params, sandbox, caller, mrs)


@router.get("/merge_requests")
async def list_all_mrs(
    request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    """MRs across the projects the caller can see (default scope ``created_by_me``)."""
    store = sandbox.store
    visible = [
        mr
        for mr in store.merge_requests.values()
        if store.access_level(store.projects[mr.target_project_id], caller.user)
        >= AccessLevel.GUEST
    ]
    mrs = filter_merge_requests(sandbox, caller.user, visible, params, "created_by_me")
    return await _page(request, params, sandbox, caller, mrs)


@router.get("/projects/{project_id}/merge_requests/{iid}")
async def get_mr(
    project_id: str, iid: int, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    data = await rendered(sandbox, project, mr, caller)
    if params.bool("include_rebase_in_progress"):
        data["rebase_in_progress"] = mr.rebase_in_progress
    if params.bool("include_diverged_commits_count"):
        data["diverged_commits_count"] = await _diverged(sandbox, project, mr)
    return data


async def _diverged(sandbox: Sandbox, project: Project, mr: MergeRequest) -> int:
    repo = sandbox.repo(project)

    def count() -> int:
        target = repo.branch_sha(mr.target_branch)
        if target is None or mr.sha is None:
            return 0
        return len(repo.commits_between(mr.sha, target))

    return await asyncio.to_thread(count)


@router.post("/projects/{project_id}/merge_requests", status_code=201)
async def create_mr(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    source, target, title = params.required_str("source_branch", "target_branch", "title")
    if params.int("target_project_id") not in (None, project.id):
        raise invalid("target_project_id")
    assignees = params.int_list("assignee_ids") or []
    if params.int("assignee_id"):
        assignees = [params.int("assignee_id") or 0]
    request = NewMergeRequest(
        title=title,
        source_branch=source,
        target_branch=target,
        description=params.str("description") or "",
        assignee_ids=tuple(u for u in assignees if u in sandbox.store.users),
        reviewer_ids=tuple(
            u for u in params.int_list("reviewer_ids") or [] if u in sandbox.store.users
        ),
        labels=tuple(params.list("labels") or []),
        squash=params.bool("squash"),
        remove_source_branch=params.bool("remove_source_branch"),
    )
    try:
        mr = await create_merge_request(sandbox, project, caller.user, request)
    except MergeRequestError as error:
        raise ApiError(error.status_code, error.message) from None
    events.merge_request_event(sandbox, project, mr, "open", caller.user)
    return await rendered(sandbox, project, mr, caller)


@router.put("/projects/{project_id}/merge_requests/{iid}")
async def update_mr(
    project_id: str, iid: int, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    if (
        mr.author_id != caller.user.id
        and sandbox.store.access_level(project, caller.user) < AccessLevel.DEVELOPER
    ):
        raise forbidden()
    try:
        await update_merge_request(sandbox, project, mr, caller.user, params)
    except MergeRequestError as error:
        raise ApiError(error.status_code, error.message) from None
    answer = await rendered(sandbox, project, mr, caller)
    await process_auto_merge(sandbox, project, mr)  # e.g. the draft mark was removed
    return answer


@router.get("/projects/{project_id}/merge_requests/{iid}/reviewers")
def mr_reviewers(
    project_id: str, iid: int, caller: ReaderDep, sandbox: SandboxDep
) -> list[dict[str, Any]]:
    """Each reviewer with their review state (``API::Entities::MergeRequestReviewer``)."""
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    return [
        {
            "user": render.user_by_id(sandbox, uid),
            "state": mr.reviewer_states.get(uid, "unreviewed"),
            "created_at": render.iso(mr.created_at),
        }
        for uid in mr.reviewer_ids
    ]


@router.get("/projects/{project_id}/merge_requests/{iid}/commits")
async def mr_commits(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    repo = sandbox.repo(project)
    base, head = mr.base_sha or mr.start_sha, mr.sha
    commits = []
    if base and head:
        commits = list(reversed(await asyncio.to_thread(repo.commits_between, base, head)))
    page, headers = paginate(request, params, commits)
    return JSONResponse([render.commit(sandbox, project, c) for c in page], headers=headers)


async def _diffs(sandbox: Sandbox, project: Project, mr: MergeRequest) -> list[dict[str, Any]]:
    await refresh_facts(sandbox, project, mr)
    if not (mr.base_sha and mr.sha):
        return []
    found = await asyncio.to_thread(sandbox.repo(project).diff, mr.base_sha, mr.sha)
    return [diff_json(d) for d in found]


@router.get("/projects/{project_id}/merge_requests/{iid}/changes")
async def mr_changes(
    project_id: str, iid: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    data = await rendered(sandbox, project, mr, caller)
    data["changes"] = await _diffs(sandbox, project, mr)
    data["overflow"] = False
    return data


@router.get("/projects/{project_id}/merge_requests/{iid}/diffs")
async def mr_diffs(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    page, headers = paginate(request, params, await _diffs(sandbox, project, mr))
    return JSONResponse(page, headers=headers)


@router.get("/projects/{project_id}/merge_requests/{iid}/pipelines")
async def mr_pipelines(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    """Pipelines of the MR's commits on its branch or MR ref: merge request pipelines
    first, then the newest (``Ci::PipelinesForMergeRequestFinder#sort``)."""
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    refs = {
        mr.source_branch,
        f"refs/merge-requests/{mr.iid}/head",
        f"refs/merge-requests/{mr.iid}/merge",
    }
    found = sorted(
        (p for p in sandbox.store.project_pipelines(project.id) if p.ref in refs),
        key=mr_pipeline_order,
        reverse=True,
    )
    page, headers = paginate(request, params, found)
    return JSONResponse([pipeline_basic(sandbox, project, p) for p in page], headers=headers)


# lib/api/merge_requests.rb answers this one ``status :ok`` (the project's POST .../pipeline
# answers 201 Created).
@router.post("/projects/{project_id}/merge_requests/{iid}/pipelines", status_code=200)
async def create_mr_pipeline_endpoint(
    project_id: str, iid: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    from gitlab_sandbox.api.render_mr import pipeline_full

    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    mr = merge_request_for(sandbox, project, iid)
    await refresh_facts(sandbox, project, mr)
    if mr.sha is None or mr.state != "opened":
        raise ApiError(400, "Cannot create a pipeline for this merge request.")
    pipeline = await create_mr_pipeline(sandbox, project, mr, caller.user.id)
    return pipeline_full(sandbox, project, pipeline)


def _version_json(mr: MergeRequest, version: DiffVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "head_commit_sha": version.head_commit_sha,
        "base_commit_sha": version.base_commit_sha,
        "start_commit_sha": version.start_commit_sha,
        "created_at": render.iso(version.created_at),
        "merge_request_id": mr.id,
        "state": "collected",
        "real_size": "1",
        "patch_id_sha": None,
    }


@router.get("/projects/{project_id}/merge_requests/{iid}/versions")
async def mr_versions(
    project_id: str,
    iid: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    """The MR's diff versions, newest first."""
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    await refresh_facts(sandbox, project, mr)
    page, headers = paginate(request, params, list(reversed(mr.versions)))
    return JSONResponse([_version_json(mr, v) for v in page], headers=headers)


@router.get("/projects/{project_id}/merge_requests/{iid}/versions/{version_id}")
async def mr_version(
    project_id: str, iid: int, version_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    mr = merge_request_for(sandbox, project, iid)
    version = next((v for v in mr.versions if v.id == version_id), None)
    if version is None:
        raise ApiError(404, "404 Not found")
    repo = sandbox.repo(project)
    base = version.base_commit_sha or version.start_commit_sha or version.head_commit_sha

    def details() -> dict[str, Any]:
        commits = list(reversed(repo.commits_between(base, version.head_commit_sha)))
        data = _version_json(mr, version)
        data["commits"] = [render.commit(sandbox, project, c) for c in commits]
        data["diffs"] = [diff_json(d) for d in repo.diff(base, version.head_commit_sha)]
        return data

    return await asyncio.to_thread(details)
