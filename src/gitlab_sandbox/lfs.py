"""The Git LFS file locking API on ``/{project}.git/info/lfs/locks`` (as GitLab serves it).

Follows the Git LFS locking spec: JSON with ``application/vnd.git-lfs+json``, HTTP basic
authentication with a token (like git), ``409`` with the existing lock when a path is held,
``/locks/verify`` splitting ``ours`` and ``theirs``, ``/locks/:id/unlock`` with ``force``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gitlab_sandbox.api.render import iso
from gitlab_sandbox.git.lfs_check import write_locks
from gitlab_sandbox.git_access import WRITE_SCOPES, GitPrincipal, SandboxGitAccess
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import AccessLevel, LfsLock, Project

LFS_JSON = "application/vnd.git-lfs+json"

router = APIRouter(include_in_schema=False)


class _LfsDenied(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _reply(
    body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=LFS_JSON, headers=headers)


def _denied(status_code: int, message: str, headers: dict[str, str] | None = None) -> _LfsDenied:
    return _LfsDenied(_reply({"message": message, "documentation_url": None}, status_code, headers))


def _principal(request: Request, access: SandboxGitAccess) -> GitPrincipal:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    principal = None
    if scheme.lower() == "basic" and encoded:
        try:
            username, _, password = (
                base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            username, password = "", ""
        principal = access.authenticate(username, password)
    elif scheme.lower() == "bearer" and encoded:
        principal = access.authenticate("oauth2", encoded.strip())
    if principal is None:
        raise _denied(
            401,
            "Access denied",
            {
                "LFS-Authenticate": 'Basic realm="GitLab"',
                "WWW-Authenticate": 'Basic realm="GitLab"',
            },
        )
    return principal


def _context(request: Request, path: str, *, write: bool) -> tuple[Sandbox, Project, GitPrincipal]:
    sandbox: Sandbox = request.app.state.sandbox
    access = SandboxGitAccess(sandbox)
    principal = _principal(request, access)
    target = access.repo_for(path)
    if target is None or not access.can_read(principal, target):
        raise _denied(404, "Not found")
    project = sandbox.store.projects[target.project_id]
    if write and (
        not WRITE_SCOPES & set(principal.token.scopes)
        or sandbox.store.access_level(project, principal.user) < AccessLevel.DEVELOPER
    ):
        raise _denied(403, "You must have push access to verify locks")
    return sandbox, project, principal


def _lock_json(sandbox: Sandbox, lock: LfsLock) -> dict[str, Any]:
    owner = sandbox.store.users.get(lock.owner_id)
    return {
        "id": str(lock.id),
        "path": lock.path,
        "locked_at": iso(lock.locked_at),
        "owner": {"name": owner.name if owner else "Ghost User"},
    }


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise _denied(422, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _denied(422, "The request body must be a JSON object.")
    return data


def _project_locks(sandbox: Sandbox, project: Project) -> list[LfsLock]:
    return sorted(
        (lk for lk in sandbox.store.lfs_locks.values() if lk.project_id == project.id),
        key=lambda lk: lk.id,
    )


def _page(locks: list[LfsLock], cursor: str | None, limit: int | None) -> tuple[list[LfsLock], str]:
    start = int(cursor) if cursor and cursor.isdigit() else 0
    remaining = [lk for lk in locks if lk.id >= start]
    if limit and limit > 0 and len(remaining) > limit:
        return remaining[:limit], str(remaining[limit].id)
    return remaining, ""


@router.get("/{path:path}.git/info/lfs/locks")
async def list_locks(path: str, request: Request) -> Response:
    try:
        sandbox, project, _ = _context(request, path, write=False)
    except _LfsDenied as denied:
        return denied.response
    locks = _project_locks(sandbox, project)
    query = request.query_params
    if query.get("path"):
        locks = [lk for lk in locks if lk.path == query["path"]]
    if query.get("id"):
        locks = [lk for lk in locks if str(lk.id) == query["id"]]
    limit = int(query["limit"]) if query.get("limit", "").isdigit() else None
    page, next_cursor = _page(locks, query.get("cursor"), limit)
    return _reply({"locks": [_lock_json(sandbox, lk) for lk in page], "next_cursor": next_cursor})


@router.post("/{path:path}.git/info/lfs/locks/verify")
async def verify_locks(path: str, request: Request) -> Response:
    try:
        sandbox, project, principal = _context(request, path, write=True)
        body = await _body(request)
    except _LfsDenied as denied:
        return denied.response
    limit = body.get("limit")
    page, next_cursor = _page(
        _project_locks(sandbox, project),
        body.get("cursor"),
        limit if isinstance(limit, int) else None,
    )
    ours = [_lock_json(sandbox, lk) for lk in page if lk.owner_id == principal.user.id]
    theirs = [_lock_json(sandbox, lk) for lk in page if lk.owner_id != principal.user.id]
    return _reply({"ours": ours, "theirs": theirs, "next_cursor": next_cursor})


@router.post("/{path:path}.git/info/lfs/locks/{lock_id}/unlock")
async def unlock(path: str, lock_id: str, request: Request) -> Response:
    try:
        sandbox, project, principal = _context(request, path, write=True)
        body = await _body(request)
    except _LfsDenied as denied:
        return denied.response
    lock = sandbox.store.lfs_locks.get(int(lock_id)) if lock_id.isdigit() else None
    if lock is None or lock.project_id != project.id:
        return _reply({"message": "Lock not found", "documentation_url": None}, 404)
    if lock.owner_id != principal.user.id:
        owner = _lock_json(sandbox, lock)["owner"]["name"]
        if not body.get("force"):
            return _reply(
                {
                    "message": f"{owner} is the owner of the lock. Use force to unlock it.",
                    "documentation_url": None,
                },
                403,
            )
        if sandbox.store.access_level(project, principal.user) < AccessLevel.MAINTAINER:
            return _reply(
                {"message": "You must be a maintainer to force unlock.", "documentation_url": None},
                403,
            )
    del sandbox.store.lfs_locks[lock.id]
    _record_locks(sandbox, project)
    return _reply({"lock": _lock_json(sandbox, lock)})


@router.post("/{path:path}.git/info/lfs/locks")
async def create_lock(path: str, request: Request) -> Response:
    try:
        sandbox, project, principal = _context(request, path, write=True)
        body = await _body(request)
    except _LfsDenied as denied:
        return denied.response
    file_path = body.get("path")
    if not isinstance(file_path, str) or not file_path.strip():
        return _reply({"message": "The lock needs a path.", "documentation_url": None}, 422)
    held = next((lk for lk in _project_locks(sandbox, project) if lk.path == file_path), None)
    if held is not None:
        return _reply({"lock": _lock_json(sandbox, held), "message": "already created lock"}, 409)
    lock = LfsLock(
        id=sandbox.store.next_id("lfs_lock"),
        project_id=project.id,
        path=file_path,
        owner_id=principal.user.id,
        locked_at=sandbox.now(),
    )
    sandbox.store.lfs_locks[lock.id] = lock
    _record_locks(sandbox, project)
    return _reply({"lock": _lock_json(sandbox, lock)}, 201)


def _record_locks(sandbox: Sandbox, project: Project) -> None:
    """Hand the project's locks to the pre-receive check (``git/lfs_check.py``)."""
    users = sandbox.store.users
    write_locks(
        sandbox.repo(project).path,
        [
            (lock.path, users[lock.owner_id].username)
            for lock in _project_locks(sandbox, project)
            if lock.owner_id in users
        ],
    )
