"""Repository commits (list, get, create with actions), their MRs and statuses, and compare."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.deps import ParamsDep, ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError, bad_request, forbidden, invalid, missing, not_found
from gitlab_sandbox.api.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, paginate
from gitlab_sandbox.api.params import Params
from gitlab_sandbox.api.render_mr import merge_request as render_mr
from gitlab_sandbox.git.objects import (
    FileAction,
    FileDiff,
    GitError,
    Identity,
    StartPoint,
    UnknownRevision,
)
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.accounts import identity_of
from gitlab_sandbox.services.permissions import can_push
from gitlab_sandbox.services.pushes import BranchUpdate, branches_updated
from gitlab_sandbox.store import AccessLevel, Project

router = APIRouter()

_ACTIONS = ("create", "update", "delete", "move", "chmod")


def diff_json(diff: FileDiff) -> dict[str, Any]:
    return {
        "diff": diff.diff,
        "new_path": diff.new_path,
        "old_path": diff.old_path,
        "a_mode": diff.a_mode,
        "b_mode": diff.b_mode,
        "new_file": diff.new_file,
        "renamed_file": diff.renamed_file,
        "deleted_file": diff.deleted_file,
        "generated_file": False,
    }


@router.get("/projects/{project_id}/repository/commits")
async def list_commits(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    """Commits reachable from ``ref_name`` (default branch), newest first."""
    project = project_for(sandbox, caller, project_id)
    repo = sandbox.repo(project)
    ref = params.str("ref_name") or project.default_branch
    per_page = min(max(params.int("per_page", DEFAULT_PER_PAGE) or 1, 1), MAX_PER_PAGE)
    page = max(params.int("page", 1) or 1, 1)
    try:
        found = await asyncio.to_thread(
            repo.log, ref, path=params.str("path"), limit=per_page + 1, offset=(page - 1) * per_page
        )
    except UnknownRevision:
        raise not_found("Commit") from None
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(page + 1) if len(found) > per_page else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
    }
    if len(found) > per_page:
        base = str(request.url).split("?", 1)[0]
        query = dict(request.query_params) | {"page": str(page + 1), "per_page": str(per_page)}
        from urllib.parse import urlencode

        headers["Link"] = f'<{base}?{urlencode(query)}>; rel="next"'
    return JSONResponse(
        [render.commit(sandbox, project, c) for c in found[:per_page]], headers=headers
    )


@router.get("/projects/{project_id}/repository/commits/{sha}")
async def get_commit(
    project_id: str, sha: str, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    repo = sandbox.repo(project)
    try:
        info = await asyncio.to_thread(repo.commit, sha)
    except UnknownRevision:
        raise not_found("Commit") from None
    data = render.commit(sandbox, project, info)
    pipeline = sandbox.store.latest_pipeline(project.id, info.id)
    data.update(
        {
            "stats": {"additions": 0, "deletions": 0, "total": 0},
            "status": pipeline.status if pipeline else None,
            "project_id": project.id,
            "last_pipeline": {
                "id": pipeline.id,
                "iid": pipeline.iid,
                "ref": pipeline.ref,
                "sha": pipeline.sha,
                "status": pipeline.status,
            }
            if pipeline
            else None,
        }
    )
    return data


def _actions(params: Params) -> list[FileAction]:
    raw = params.raw("actions")
    if not isinstance(raw, list) or not raw:
        raise missing("actions")
    actions = []
    for item in raw:
        if not isinstance(item, dict) or item.get("action") not in _ACTIONS:
            raise ApiError(400, "actions[action] does not have a valid value", key="error")
        if not item.get("file_path"):
            raise missing("actions[file_path]")
        content = item.get("content")
        data: bytes | None = None
        if content is not None:
            if item.get("encoding") == "base64":
                try:
                    data = base64.b64decode(str(content), validate=True)
                except ValueError:
                    raise invalid("actions[content]") from None
            else:
                data = str(content).encode()
        actions.append(
            FileAction(
                action=item["action"],
                file_path=str(item["file_path"]),
                content=data,
                previous_path=item.get("previous_path"),
                last_commit_id=item.get("last_commit_id"),
                execute_filemode=item.get("execute_filemode"),
            )
        )
    return actions


async def commit_actions(
    sandbox: Sandbox,
    project: Project,
    caller_user: Any,
    branch: str,
    actions: list[FileAction],
    message: str,
    *,
    author: Identity | None = None,
    start: StartPoint = StartPoint(),
) -> Any:
    """Commit ``actions`` on ``branch`` and run the push reactions; the new ``CommitInfo``."""
    if not can_push(sandbox, project, caller_user, branch):
        raise forbidden("You are not allowed to push into this branch")
    repo = sandbox.repo(project)
    old = await asyncio.to_thread(repo.branch_sha, branch)
    try:
        info = await asyncio.to_thread(
            repo.commit_files,
            branch,
            actions,
            message,
            author or identity_of(caller_user),
            start=start,
            committer=identity_of(caller_user),
        )
    except GitError as error:
        raise bad_request(error.message) from None
    await branches_updated(
        sandbox, project, [BranchUpdate(branch, old, info.id)], caller_user, how="api"
    )
    return info


@router.post("/projects/{project_id}/repository/commits", status_code=201)
async def create_commit(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """GitLab's create-commit API with actions and per-action ``last_commit_id``."""
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    branch, message = params.required_str("branch", "commit_message")
    actions = _actions(params)
    author = None
    if params.str("author_email") or params.str("author_name"):
        base = identity_of(caller.user)
        author = Identity(
            params.str("author_name") or base.name, params.str("author_email") or base.email
        )
    info = await commit_actions(
        sandbox,
        project,
        caller.user,
        branch,
        actions,
        message,
        author=author,
        start=StartPoint(
            params.str("start_branch"), params.str("start_sha"), bool(params.bool("force", False))
        ),
    )
    data = render.commit(sandbox, project, info)
    data.update(
        {
            "stats": {"additions": 0, "deletions": 0, "total": 0},
            "status": None,
            "project_id": project.id,
            "last_pipeline": None,
        }
    )
    return data


@router.get("/projects/{project_id}/repository/commits/{sha}/merge_requests")
async def commit_merge_requests(
    project_id: str, sha: str, caller: ReaderDep, sandbox: SandboxDep
) -> list[dict[str, Any]]:
    """MRs whose head, merge commit or squash commit is ``sha``."""
    project = project_for(sandbox, caller, project_id)
    repo = sandbox.repo(project)
    full = await asyncio.to_thread(repo.resolve, sha)
    if full is None:
        raise not_found("Commit")
    found = [
        mr
        for mr in sandbox.store.project_merge_requests(project.id)
        if full in (mr.sha, mr.merge_commit_sha, mr.squash_commit_sha)
    ]
    return [render_mr(sandbox, project, mr, caller.user, detailed=False) for mr in found]


@router.get("/projects/{project_id}/repository/commits/{sha}/refs")
async def commit_refs(
    project_id: str,
    sha: str,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    """Branches and tags containing ``sha`` (``type``: branch, tag or all, the default)."""
    project = project_for(sandbox, caller, project_id)
    kind = params.str("type") or "all"
    if kind not in ("branch", "tag", "all"):
        raise ApiError(400, "type does not have a valid value", key="error")  # Grape's values check
    repo = sandbox.repo(project)
    full = await asyncio.to_thread(repo.resolve, sha)
    if full is None:
        raise not_found("Commit")
    refs = await asyncio.to_thread(repo.refs_containing, full)
    wanted = [{"type": t, "name": n} for t, n in refs if kind in ("all", t)]
    page, headers = paginate(request, params, wanted)
    return JSONResponse(page, headers=headers)


@router.get("/projects/{project_id}/repository/commits/{sha}/statuses")
async def commit_statuses(
    project_id: str, sha: str, caller: ReaderDep, sandbox: SandboxDep
) -> list[dict[str, Any]]:
    """One status per pipeline job on the commit (the sandbox has no external statuses)."""
    project = project_for(sandbox, caller, project_id)
    full = await asyncio.to_thread(sandbox.repo(project).resolve, sha)
    if full is None:
        raise not_found("Commit")
    statuses = []
    web = f"{sandbox.base_url}/{project.path_with_namespace}"
    for pipeline in sorted(sandbox.store.project_pipelines(project.id), key=lambda p: -p.id):
        if pipeline.sha != full:
            continue
        for job in pipeline.run.jobs:
            statuses.append(
                {
                    "id": job.id,
                    "sha": full,
                    "ref": pipeline.ref,
                    "status": job.status.value,
                    "name": job.name,
                    "target_url": f"{web}/-/jobs/{job.id}",
                    "description": None,
                    "created_at": render.iso(job.created_at),
                    "started_at": render.iso(job.started_at),
                    "finished_at": render.iso(job.finished_at),
                    "allow_failure": False,
                    "coverage": None,
                    "pipeline_id": pipeline.id,
                    "author": render.user_by_id(sandbox, pipeline.user_id),
                }
            )
    return statuses


@router.get("/projects/{project_id}/repository/compare")
async def compare(
    project_id: str, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    start, end = params.required_str("from", "to")
    repo = sandbox.repo(project)

    def run() -> dict[str, Any]:
        a, b = repo.resolve(start), repo.resolve(end)
        if a is None or b is None:
            raise not_found("Ref")
        base = a if params.bool("straight") else (repo.merge_base(a, b) or a)
        commits = repo.commits_between(base, b)
        return {
            "commit": render.commit(sandbox, project, commits[-1]) if commits else None,
            "commits": [render.commit(sandbox, project, c) for c in commits],
            "diffs": [diff_json(d) for d in repo.diff(base, b)],
            "compare_timeout": False,
            "compare_same_ref": a == b,
            "web_url": f"{sandbox.base_url}/{project.path_with_namespace}/-/compare/{a}...{b}",
        }

    return await asyncio.to_thread(run)
