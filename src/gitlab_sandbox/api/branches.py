"""Repository branches: list, get, create, delete."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.deps import Caller, ParamsDep, ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError, bad_request, forbidden, not_found
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.git.objects import GitError, UnknownRevision
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.permissions import can_merge, can_push
from gitlab_sandbox.services.pushes import BranchUpdate, branches_updated
from gitlab_sandbox.store import AccessLevel, Project

router = APIRouter()


def branch_json(
    sandbox: Sandbox, project: Project, caller: Caller, name: str, sha: str
) -> dict[str, Any]:
    """A branch as GitLab's branches API returns it."""
    repo = sandbox.repo(project)
    rule = sandbox.store.protection_for(project, name)
    default = project.default_branch
    default_sha = repo.branch_sha(default)
    return {
        "name": name,
        "commit": render.commit(sandbox, project, repo.commit(sha)),
        "merged": name != default
        and default_sha is not None
        and repo.is_ancestor(sha, default_sha),
        "protected": rule is not None,
        "developers_can_push": rule is not None and rule.push_access_level == AccessLevel.DEVELOPER,
        "developers_can_merge": rule is not None
        and rule.merge_access_level == AccessLevel.DEVELOPER,
        "can_push": can_push(sandbox, project, caller.user, name),
        "default": name == default,
        "web_url": f"{sandbox.base_url}/{project.path_with_namespace}/-/tree/{name}",
    }


@router.get("/projects/{project_id}/repository/branches")
async def list_branches(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    repo = sandbox.repo(project)
    branches = sorted((await asyncio.to_thread(repo.branches)).items())
    search = params.str("search")
    if search:
        branches = [(n, s) for n, s in branches if search.lower() in n.lower()]
    page, headers = paginate(request, params, branches)
    body = await asyncio.to_thread(
        lambda: [branch_json(sandbox, project, caller, n, s) for n, s in page]
    )
    return JSONResponse(body, headers=headers)


@router.get("/projects/{project_id}/repository/branches/{branch}")
async def get_branch(
    project_id: str, branch: str, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    name = unquote(branch)
    repo = sandbox.repo(project)
    sha = await asyncio.to_thread(repo.branch_sha, name)
    if sha is None:
        raise not_found("Branch")
    return await asyncio.to_thread(branch_json, sandbox, project, caller, name, sha)


@router.post("/projects/{project_id}/repository/branches", status_code=201)
async def create_branch(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    name, ref = params.required_str("branch", "ref")
    if not can_push(sandbox, project, caller.user, name):
        raise forbidden()
    repo = sandbox.repo(project)
    try:
        sha = await asyncio.to_thread(repo.create_branch, name, ref)
    except UnknownRevision:
        raise bad_request("Invalid reference name: " + ref) from None
    except GitError as error:
        raise bad_request(error.message) from None
    await branches_updated(sandbox, project, [BranchUpdate(name, None, sha)], caller.user)
    return await asyncio.to_thread(branch_json, sandbox, project, caller, name, sha)


@router.delete("/projects/{project_id}/repository/branches/{branch}", status_code=204)
async def delete_branch(
    project_id: str, branch: str, caller: WriterDep, sandbox: SandboxDep
) -> Response:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    name = unquote(branch)
    if name == project.default_branch:
        raise ApiError(405, "The default branch of a project cannot be deleted.")
    if sandbox.store.protection_for(project, name) is not None and not can_merge(
        sandbox, project, caller.user, name
    ):
        raise forbidden()
    repo = sandbox.repo(project)
    old = await asyncio.to_thread(repo.branch_sha, name)
    if old is None:
        raise not_found("Branch")
    try:
        await asyncio.to_thread(repo.delete_branch, name)
    except GitError as error:
        raise bad_request(error.message) from None
    await branches_updated(sandbox, project, [BranchUpdate(name, old, None)], caller.user)
    return Response(status_code=204)
