"""Request dependencies: the sandbox, the authenticated caller, scopes and project access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from gitlab_sandbox.api.errors import ApiError, forbidden, not_found, unauthorized
from gitlab_sandbox.api.params import Params, read_params
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.store import AccessLevel, AccessToken, MergeRequest, Project, User

READ_SCOPES = frozenset({"api", "read_api"})
WRITE_SCOPES = frozenset({"api"})


def get_sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]
ParamsDep = Annotated[Params, Depends(read_params)]


@dataclass(frozen=True)
class Caller:
    """The user behind a request and the token it used."""

    user: User
    token: AccessToken


def token_from_request(request: Request) -> str | None:
    """The token of a request: ``PRIVATE-TOKEN``, ``Authorization: Bearer``, or (as GitLab
    still accepts) the ``private_token``/``access_token`` query parameter."""
    header = request.headers.get("private-token")
    if header:
        return header.strip()
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    for name in ("private_token", "access_token"):
        if request.query_params.get(name):
            return request.query_params[name]
    return None


def _invalid_token(description: str) -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        key="error",
        extra={"error_description": description},
        headers={
            "WWW-Authenticate": (
                'Bearer realm="Protected by OAuth 2.0", error="invalid_token", '
                f'error_description="{description}"'
            )
        },
    )


def authenticate(request: Request, sandbox: Sandbox) -> Caller:
    """The caller of a request, or GitLab's 401 answers (missing, unknown, expired, revoked)."""
    value = token_from_request(request)
    token = sandbox.store.token_by_value(value) if value else None
    if token is None:
        raise unauthorized()
    if token.revoked:
        raise _invalid_token("Token has been revoked.")
    now = sandbox.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise _invalid_token("Token has expired.")
    user = sandbox.store.users.get(token.user_id)
    if user is None or user.state != "active":
        raise unauthorized()
    token.last_used_at = now
    sudo = request.headers.get("sudo") or request.query_params.get("sudo")
    if sudo:
        user = _sudo_user(sandbox, user, token, sudo)
    request.state.caller = Caller(user, token)
    caller: Caller = request.state.caller
    return caller


def _sudo_user(sandbox: Sandbox, admin: User, token: AccessToken, target: str) -> User:
    """GitLab's ``Sudo``: an admin token with the ``sudo`` scope acts as another user."""
    if not admin.is_admin:
        raise forbidden("403 Forbidden - Must be admin to use sudo")
    if "sudo" not in token.scopes:
        raise ApiError(
            403,
            "insufficient_scope",
            key="error",
            extra={
                "error_description": (
                    "The request requires higher privileges than provided by the access token."
                ),
                "scope": "sudo",
            },
        )
    found = (
        sandbox.store.users.get(int(target))
        if target.isdigit()
        else sandbox.store.user_by_username(target)
    )
    if found is None:
        raise ApiError(404, f"404 User with ID or username '{target}' Not Found")
    return found


def _require_scopes(caller: Caller, accepted: frozenset[str]) -> None:
    if not accepted & set(caller.token.scopes):
        raise ApiError(
            403,
            "insufficient_scope",
            key="error",
            extra={
                "error_description": (
                    "The request requires higher privileges than provided by the access token."
                ),
                "scope": " ".join(sorted(accepted)),
            },
        )


def reader(request: Request, sandbox: SandboxDep) -> Caller:
    """A caller allowed to read through the API (``api`` or ``read_api``)."""
    caller = authenticate(request, sandbox)
    accepted = (
        READ_SCOPES | {"read_user"} if request.url.path.startswith("/api/v4/user") else READ_SCOPES
    )
    _require_scopes(caller, accepted)
    return caller


def writer(request: Request, sandbox: SandboxDep) -> Caller:
    """A caller allowed to write through the API (``api`` scope)."""
    caller = authenticate(request, sandbox)
    _require_scopes(caller, WRITE_SCOPES)
    return caller


ReaderDep = Annotated[Caller, Depends(reader)]
WriterDep = Annotated[Caller, Depends(writer)]


def project_for(
    sandbox: Sandbox, caller: Caller, ref: str, level: int = AccessLevel.GUEST
) -> Project:
    """The project ``ref`` names, if the caller may see it (404) and has ``level`` (403)."""
    project = sandbox.store.project_by_ref(ref)
    if project is None:
        raise not_found("Project")
    access = sandbox.store.access_level(project, caller.user)
    if access < AccessLevel.GUEST and project.visibility != "public":
        raise not_found("Project")
    if access < level:
        raise forbidden()
    return project


def merge_request_for(sandbox: Sandbox, project: Project, iid: int) -> MergeRequest:
    """The project's MR ``iid`` or ``404 Merge Request Not Found``."""
    mr = sandbox.store.merge_request(project.id, iid)
    if mr is None:
        raise not_found("Merge Request")
    return mr


def user_or_404(sandbox: Sandbox, user_id: int) -> User:
    user = sandbox.store.users.get(user_id)
    if user is None:
        raise not_found("User")
    return user
