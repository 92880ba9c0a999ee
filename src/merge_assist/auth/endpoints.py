"""HTTP wiring of sign-in (``/api/auth``) and user administration (``/api/users``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import (
    accounts,
    attempts,
    cookies,
    gitlab_identities,
    gitlab_login,
    service,
)
from merge_assist.auth.audit_port import AUDIT_SINK, ClientInfo
from merge_assist.auth.dependencies import AdminUser, CurrentUser
from merge_assist.auth.notices import USER_NOTICES
from merge_assist.auth.schemas import (
    GitLabLoginRequest,
    GitLabLoginResponse,
    LoginRequest,
    LogoutRequest,
    MeOut,
    RefreshRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserPage,
    UserUpdate,
)
from merge_assist.auth.service import TokenPair
from merge_assist.kit.body_limit import read_request_body
from merge_assist.kit.errors import MergeAssistError, NotAuthenticated
from merge_assist.kit.forwarded import client_address
from merge_assist.kit.live.publish import LiveSession
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import Resources, Session

router = APIRouter()

MAX_LOGIN_BODY_BYTES = 16 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The user's id.")]

_LOGIN_FORM_SCHEMA = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string"},
        "password": {"type": "string", "format": "password"},
        "grant_type": {"type": "string", "enum": ["password"]},
    },
}
_LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_FORM_SCHEMA},
        },
    }
}


@asynccontextmanager
async def session_keeping_refusals(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A unit of work that also commits when it ends in an expected refusal, so a failed
    sign-in's record and a family revoked after token reuse are kept."""
    async with sessions() as session:
        try:
            yield session
        except MergeAssistError:
            await session.commit()
            raise
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


def _client(request: Request, settings: Settings) -> ClientInfo:
    """Who is signing in: the peer, or the client a trusted proxy names (``kit.forwarded``)."""
    address = client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings.trusted_proxy_networks,
    )
    return ClientInfo(address=address, user_agent=request.headers.get("user-agent"))


def _token_response(settings: Settings, body: TokenResponse, *, cookie: bool) -> Response:
    """The tokens as JSON; with cookie transport the refresh token goes into a cookie instead."""
    if not cookie:
        return JSONResponse(body.model_dump(mode="json"))
    refresh_token = body.refresh_token
    response = JSONResponse(body.model_dump(mode="json", exclude={"refresh_token"}))
    assert refresh_token is not None  # every sign-in and refresh issues one
    cookies.set_session_cookies(response, settings, refresh_token)
    return response


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, expires_in=pair.expires_in, refresh_token=pair.refresh_token
    )


async def _login_request(request: Request) -> LoginRequest:
    """The credentials, from JSON or from the OAuth2 password form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in FORM_TYPES:
            form = await request.form(max_files=0, max_fields=16)
            fields = {key: value for key, value in form.items() if isinstance(value, str)}
            return LoginRequest.model_validate(fields)
        body = await read_request_body(
            request, MAX_LOGIN_BODY_BYTES, "The sign-in request is too large."
        )
        return LoginRequest.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from exc


@router.post(
    "/api/auth/login",
    tags=["auth"],
    openapi_extra=_LOGIN_OPENAPI,
    summary="Sign in with a username and password (JSON or OAuth2 password form)",
)
async def login(request: Request, res: Resources) -> Response:
    """Tokens for a correct username and password; 401 otherwise, 429 when throttled.

    With the header ``X-Refresh-Transport: cookie`` the refresh token is set as an httpOnly
    cookie (plus a CSRF cookie) and left out of the body.
    """
    credentials = await _login_request(request)
    client = _client(request, res.settings)
    audit = res.service(AUDIT_SINK)
    # The attempt is counted (and committed) before the password is checked.
    async with session_keeping_refusals(res.sessions) as session:
        reservation = await attempts.reserve_login_attempt(
            session, res.settings, audit, username=credentials.username, client=client
        )
    async with session_keeping_refusals(res.sessions) as session:
        pair = await service.login(
            session,
            res.settings,
            audit,
            username=credentials.username,
            password=credentials.password,
            client=client,
            reservation=reservation,
        )
    return _token_response(res.settings, _tokens(pair), cookie=cookies.wants_cookie(request))


@router.post(
    "/api/auth/login-gitlab",
    tags=["auth"],
    response_model=GitLabLoginResponse,
    summary="Sign in with a GitLab personal access token (scope api)",
)
async def login_gitlab(body: GitLabLoginRequest, request: Request, res: Resources) -> Response:
    """Tokens for a valid GitLab token; registers the GitLab user on their first sign-in.

    401 for an unknown, expired or revoked token, 403 without the ``api`` scope, 429 when
    throttled. ``warning`` is set when the GitLab token expires within a few days.
    """
    client = _client(request, res.settings)
    audit = res.service(AUDIT_SINK)
    # The attempt is counted (and committed) before GitLab is asked.
    async with session_keeping_refusals(res.sessions) as session:
        reservation = await attempts.reserve_token_attempt(
            session,
            res.settings,
            audit,
            attempt_name=gitlab_login.TOKEN_ATTEMPT_NAME,
            client=client,
        )
    async with session_keeping_refusals(res.sessions) as session:
        signed_in = await gitlab_login.login_with_gitlab_token(
            session,
            res.settings,
            audit,
            res.service(USER_NOTICES),
            token=body.token,
            client=client,
            reservation=reservation,
        )
    pair = signed_in.pair
    answer = GitLabLoginResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        gitlab_token_expires_at=signed_in.gitlab_token_expires_at,
        warning=signed_in.warning,
    )
    return _token_response(res.settings, answer, cookie=cookies.wants_cookie(request))


OptionalRefresh = Annotated[RefreshRequest | None, Body()]
OptionalLogout = Annotated[LogoutRequest | None, Body()]


@router.post("/api/auth/refresh", tags=["auth"], response_model=TokenResponse)
async def refresh(request: Request, res: Resources, body: OptionalRefresh = None) -> Response:
    """New tokens for a refresh token, which stops working; reusing it ends the sign-in.

    The token comes from the body (API clients) or from the cookie set at sign-in (browsers;
    then the ``X-CSRF-Token`` header must match, else 403) and the answer goes the same way.
    """
    from_cookie = body is None
    token = body.refresh_token if body is not None else _cookie_token(request, res.settings)
    if token is None:
        raise NotAuthenticated("There is no refresh token: send it in the body, or sign in again.")
    async with session_keeping_refusals(res.sessions) as session:
        pair = await service.refresh(
            session,
            res.settings,
            res.service(AUDIT_SINK),
            refresh_token=token,
            client=_client(request, res.settings),
        )
    return _token_response(res.settings, _tokens(pair), cookie=from_cookie)


def _cookie_token(request: Request, settings: Settings) -> str | None:
    return cookies.refresh_token_from_cookie(request, settings)


@router.post("/api/auth/logout", tags=["auth"], status_code=204)
async def logout(
    request: Request, session: LiveSession, res: Resources, body: OptionalLogout = None
) -> Response:
    """End the sign-in of the refresh token (with ``everywhere``, every sign-in of the user).

    The token comes from the body or from the cookie (with the ``X-CSRF-Token`` header); both
    cookies are cleared either way.
    """
    token = body.refresh_token if body is not None else _cookie_token(request, res.settings)
    if token is not None:
        await service.logout(
            session,
            res.service(AUDIT_SINK),
            refresh_token=token,
            everywhere=body.everywhere if body is not None else False,
        )
    response = Response(status_code=204)
    cookies.clear_session_cookies(response, res.settings)
    return response


@router.post("/api/auth/logout-all", tags=["auth"], status_code=204)
async def logout_all(principal: CurrentUser, session: LiveSession, res: Resources) -> Response:
    """End every sign-in of the signed-in user (refresh and access tokens; their live sockets
    close), and clear cookies."""
    await service.logout_all(session, res.service(AUDIT_SINK), user_id=principal.id)
    response = Response(status_code=204)
    cookies.clear_session_cookies(response, res.settings)
    return response


@router.delete("/api/auth/gitlab-token", tags=["auth"], status_code=204)
async def forget_gitlab_token(principal: CurrentUser, session: Session, res: Resources) -> Response:
    """Delete the GitLab token stored when you signed in with it (204 also when there is none).

    What used it on your behalf (e.g. writing to a GitLab-backed vault) needs a sign-in with a
    GitLab token again; your account stays.
    """
    await gitlab_identities.forget_token(session, res.service(AUDIT_SINK), user_id=principal.id)
    return Response(status_code=204)


@router.get("/api/auth/me", tags=["auth"])
async def me(principal: CurrentUser, session: Session) -> MeOut:
    """The signed-in user."""
    return MeOut.of(await accounts.get_user(session, principal.id))


@router.get("/api/users", tags=["users"])
async def list_users(
    _admin: AdminUser,
    session: Session,
    q: Annotated[str | None, Query(max_length=128, description="Part of a name or email.")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UserPage:
    """Users by username, a page at a time (admin)."""
    users, total = await accounts.list_users(session, query=q, page=page, per_page=per_page)
    return UserPage(
        items=[UserOut.of(user) for user in users], total=total, page=page, per_page=per_page
    )


@router.post("/api/users", tags=["users"], status_code=201)
async def create_user(
    body: UserCreate, admin: AdminUser, session: Session, res: Resources
) -> UserOut:
    """Create a user with a password (admin)."""
    user = await accounts.create_user(
        session, res.settings, res.service(AUDIT_SINK), actor_id=admin.id, data=body
    )
    return UserOut.of(user)


@router.get("/api/users/{user_id}", tags=["users"])
async def get_user(user_id: UserId, _admin: AdminUser, session: Session) -> UserOut:
    """One user (admin)."""
    return UserOut.of(await accounts.get_user(session, user_id))


@router.patch("/api/users/{user_id}", tags=["users"])
async def update_user(
    user_id: UserId, body: UserUpdate, admin: AdminUser, session: LiveSession, res: Resources
) -> UserOut:
    """Change a user's name, email, roles, password or active flag (admin)."""
    user = await accounts.update_user(
        session,
        res.settings,
        res.service(AUDIT_SINK),
        actor_id=admin.id,
        user_id=user_id,
        data=body,
    )
    return UserOut.of(user)


@router.post("/api/users/{user_id}/deactivate", tags=["users"])
async def deactivate_user(
    user_id: UserId, admin: AdminUser, session: LiveSession, res: Resources
) -> UserOut:
    """Deactivate a user and end their sign-ins (admin; not yourself, not the last admin)."""
    user = await accounts.deactivate_user(
        session, res.service(AUDIT_SINK), actor_id=admin.id, user_id=user_id
    )
    return UserOut.of(user)
