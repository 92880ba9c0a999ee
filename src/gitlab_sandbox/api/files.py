"""Repository files (get, raw, create, update, delete) and the tree."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gitlab_sandbox.api.commits import commit_actions
from gitlab_sandbox.api.deps import ParamsDep, ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError, not_found
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.api.params import Params
from gitlab_sandbox.git.objects import FileAction, StartPoint, UnknownRevision
from gitlab_sandbox.store import AccessLevel

router = APIRouter()


@router.get("/projects/{project_id}/repository/files/{file_path}")
async def get_file(
    project_id: str, file_path: str, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """A file's metadata and base64 content at ``ref``."""
    return await _file_with_content(project_id, file_path, params, caller, sandbox)


# GitLab answers HEAD with the metadata as X-Gitlab-* headers and no content.
_HEAD_FIELDS = (
    "blob_id",
    "commit_id",
    "content_sha256",
    "encoding",
    "file_name",
    "file_path",
    "last_commit_id",
    "ref",
    "size",
    "execute_filemode",
)


@router.head("/projects/{project_id}/repository/files/{file_path}")
async def head_file(
    project_id: str, file_path: str, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> Response:
    """A file's metadata at ``ref`` as ``X-Gitlab-*`` headers, without its content."""
    found = await _file_with_content(project_id, file_path, params, caller, sandbox)
    headers = {
        "X-Gitlab-" + "-".join(part.capitalize() for part in name.split("_")): (
            str(found[name]).lower() if isinstance(found[name], bool) else str(found[name])
        )
        for name in _HEAD_FIELDS
        if found.get(name) is not None
    }
    return Response(status_code=200, headers=headers)


async def _file_with_content(
    project_id: str, file_path: str, params: Params, caller: Any, sandbox: Any
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    path = unquote(file_path)
    (ref,) = params.required_str("ref")
    repo = sandbox.repo(project)

    def read() -> dict[str, Any]:
        try:
            commit = repo.require(ref)
        except UnknownRevision:
            raise not_found("Commit") from None
        content = repo.read_file(commit, path)
        if content is None:
            raise not_found("File")
        entry = next(
            (e for e in repo.list_tree(commit, path.rpartition("/")[0]) if e.path == path), None
        )
        return {
            "file_name": path.rsplit("/", 1)[-1],
            "file_path": path,
            "size": len(content),
            "encoding": "base64",
            "content_sha256": hashlib.sha256(content).hexdigest(),
            "ref": ref,
            "blob_id": repo.blob_id(commit, path),
            "commit_id": commit,
            "last_commit_id": repo.last_commit_for_path(commit, path),
            "execute_filemode": bool(entry and entry.mode == "100755"),
            "content": base64.b64encode(content).decode(),
        }

    return await asyncio.to_thread(read)


@router.get("/projects/{project_id}/repository/files/{file_path}/raw")
async def get_raw_file(
    project_id: str, file_path: str, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> Response:
    project = project_for(sandbox, caller, project_id)
    ref = params.str("ref") or project.default_branch
    repo = sandbox.repo(project)
    try:
        content = await asyncio.to_thread(repo.read_file, ref, unquote(file_path))
    except UnknownRevision:
        raise not_found("Commit") from None
    if content is None:
        raise not_found("File")
    return Response(content, media_type="text/plain; charset=utf-8")


def _file_action(action: str, path: str, params: Params) -> FileAction:
    content = params.str("content")
    data = None
    if content is not None:
        data = base64.b64decode(content) if params.str("encoding") == "base64" else content.encode()
    return FileAction(
        action=action,  # type: ignore[arg-type]
        file_path=path,
        content=data,
        last_commit_id=params.str("last_commit_id"),
        execute_filemode=params.bool("execute_filemode"),
    )


async def _write_file(
    action: str, project_id: str, file_path: str, params: Params, caller: Any, sandbox: Any
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    path = unquote(file_path)
    branch, message = params.required_str("branch", "commit_message")
    if action != "delete" and params.str("content") is None:
        raise ApiError(400, "content is missing", key="error")
    await commit_actions(
        sandbox,
        project,
        caller.user,
        branch,
        [_file_action(action, path, params)],
        message,
        start=StartPoint(branch=params.str("start_branch")),
    )
    return {"file_path": path, "branch": branch}


@router.post("/projects/{project_id}/repository/files/{file_path}", status_code=201)
async def create_file(
    project_id: str, file_path: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    return await _write_file("create", project_id, file_path, params, caller, sandbox)


@router.put("/projects/{project_id}/repository/files/{file_path}")
async def update_file(
    project_id: str, file_path: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    return await _write_file("update", project_id, file_path, params, caller, sandbox)


@router.delete("/projects/{project_id}/repository/files/{file_path}", status_code=204)
async def delete_file(
    project_id: str, file_path: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> Response:
    await _write_file("delete", project_id, file_path, params, caller, sandbox)
    return Response(status_code=204)


@router.get("/projects/{project_id}/repository/tree")
async def tree(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    repo = sandbox.repo(project)
    ref = params.str("ref") or project.default_branch
    try:
        entries = await asyncio.to_thread(
            repo.list_tree, ref, params.str("path") or "", bool(params.bool("recursive", False))
        )
    except UnknownRevision:
        raise not_found("Tree") from None
    page, headers = paginate(request, params, entries)
    body = [
        {"id": e.id, "name": e.name, "type": e.type, "path": e.path, "mode": e.mode} for e in page
    ]
    return JSONResponse(body, headers=headers)
