"""Users, the current user, personal access tokens and the version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from gitlab_sandbox.api import render
from gitlab_sandbox.api.deps import ParamsDep, ReaderDep, SandboxDep, user_or_404
from gitlab_sandbox.api.errors import ApiError
from gitlab_sandbox.api.pagination import paginate

router = APIRouter()


@router.get("/version")
def get_version(_: ReaderDep) -> dict[str, Any]:
    """GitLab's version, as the sandbox pretends it."""
    return render.version()


@router.get("/metadata")
def get_metadata(_: ReaderDep) -> dict[str, Any]:
    return render.version()


@router.get("/user")
def current_user(caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    """The user behind the token."""
    return render.user_full(
        sandbox, caller.user, is_self=True, viewer_is_admin=caller.user.is_admin
    )


@router.get("/users/{user_id}")
def get_user(user_id: str, caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    if not user_id.isdigit():
        raise ApiError(404, "404 User Not Found")
    user = user_or_404(sandbox, int(user_id))
    return render.user_full(
        sandbox, user, is_self=user.id == caller.user.id, viewer_is_admin=caller.user.is_admin
    )


@router.get("/users")
def list_users(
    request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    """Users, filtered by ``username``, ``search`` or ``active``/``blocked``."""
    users = sorted(sandbox.store.users.values(), key=lambda u: u.id)
    username = params.str("username")
    if username is not None:
        users = [u for u in users if u.username.lower() == username.lower()]
    search = (params.str("search") or "").lower()
    if search:
        users = [
            u
            for u in users
            if search in u.username.lower() or search in u.name.lower() or search == u.email
        ]
    if params.bool("active"):
        users = [u for u in users if u.state == "active"]
    if params.bool("blocked"):
        users = [u for u in users if u.state == "blocked"]
    page, headers = paginate(request, params, users, keyset=True)
    body = [
        render.user_full(
            sandbox, u, is_self=u.id == caller.user.id, viewer_is_admin=caller.user.is_admin
        )
        for u in page
    ]
    return JSONResponse(body, headers=headers)


@router.get("/personal_access_tokens/self")
def token_self(caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    """The token the request used."""
    return render.token(sandbox, caller.token)


@router.delete("/personal_access_tokens/self", status_code=204)
def revoke_token_self(caller: ReaderDep) -> Response:
    """Revoke the token the request used (GitLab answers 204)."""
    caller.token.revoked = True
    return Response(status_code=204)


@router.delete("/personal_access_tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, caller: ReaderDep, sandbox: SandboxDep) -> Response:
    """Revoke one of the caller's tokens (an admin: anyone's)."""
    token = sandbox.store.tokens.get(token_id)
    if token is None or (token.user_id != caller.user.id and not caller.user.is_admin):
        raise ApiError(404, "404 Not Found")
    token.revoked = True
    return Response(status_code=204)


@router.get("/personal_access_tokens/{token_id}")
def get_token(token_id: int, caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    token = sandbox.store.tokens.get(token_id)
    if token is None or (token.user_id != caller.user.id and not caller.user.is_admin):
        raise ApiError(404, "404 Not Found")
    return render.token(sandbox, token)
