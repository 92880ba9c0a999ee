"""Request authentication through the real app: 401s, 403s, and changes that apply at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from merge_assist.auth.dependencies import Principal, require_roles
from merge_assist.auth.tokens import issue_access_token
from merge_assist.kit.clock import utcnow
from merge_assist.kit.settings import Settings
from tests.auth.conftest import Account, MakeUser

MakeClient = Callable[..., httpx.AsyncClient]


def _assert_challenge(response: httpx.Response, fragment: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert fragment in response.json()["detail"]


async def test_missing_token_is_a_401_challenge(admin: Account, make_client: MakeClient) -> None:
    _assert_challenge(await make_client().get("/api/auth/me"), "Sign in first")


@pytest.mark.parametrize("header", ["Bearer", "Bearer not-a-jwt", "Basic cm9vdDpwdw==", "Token x"])
async def test_malformed_authorization_is_a_401(
    admin: Account, make_client: MakeClient, header: str
) -> None:
    response = await make_client().get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_token_in_the_query_string_is_ignored(
    admin: Account, make_client: MakeClient
) -> None:
    response = await make_client().get(
        "/api/auth/me", params={"access_token": admin.access_token, "token": admin.access_token}
    )
    _assert_challenge(response, "Sign in first")


async def test_expired_token_is_a_401(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    stale = issue_access_token(
        admin.id,
        key=settings.resolved_secret_key(),
        minutes=15,
        now=utcnow() - timedelta(hours=1),
    )
    response = await make_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {stale.token}"}
    )
    _assert_challenge(response, "expired")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_token_of_another_key_is_a_401(admin: Account, make_client: MakeClient) -> None:
    forged = issue_access_token(admin.id, key="some-other-key-0123456789abcdefghij", minutes=5)
    response = await make_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {forged.token}"}
    )
    _assert_challenge(response, "not valid")


async def test_token_of_a_missing_user_is_a_401(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    ghost = issue_access_token(999_999, key=settings.resolved_secret_key(), minutes=5)
    response = await make_client().get(
        "/api/auth/me", headers={"Authorization": f"Bearer {ghost.token}"}
    )
    _assert_challenge(response, "no longer exists")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/users"),
        ("POST", "/api/users"),
        ("GET", "/api/users/1"),
        ("PATCH", "/api/users/1"),
        ("POST", "/api/users/1/deactivate"),
    ],
)
async def test_viewer_gets_403_on_admin_endpoints(
    make_user: MakeUser, method: str, path: str
) -> None:
    viewer = await make_user("vic", "viewer")
    body = {} if method in ("POST", "PATCH") else None
    response = await viewer.client.request(method, path, json=body)
    assert response.status_code == 403
    assert response.json()["detail"] == "This needs one of these roles: admin."


async def test_deactivation_applies_to_a_still_valid_access_token(
    admin: Account, make_user: MakeUser
) -> None:
    mia = await make_user("mia", "member")
    assert (await mia.client.get("/api/auth/me")).status_code == 200
    assert (await admin.client.post(f"/api/users/{mia.id}/deactivate")).status_code == 200
    _assert_challenge(await mia.client.get("/api/auth/me"), "deactivated")


async def test_role_change_applies_at_once(admin: Account, make_user: MakeUser) -> None:
    pat = await make_user("pat", "viewer")
    assert (await pat.client.get("/api/users")).status_code == 403
    promoted = await admin.client.patch(f"/api/users/{pat.id}", json={"roles": ["admin"]})
    assert promoted.status_code == 200
    assert (await pat.client.get("/api/users")).status_code == 200
    demoted = await admin.client.patch(f"/api/users/{pat.id}", json={"roles": ["viewer"]})
    assert demoted.status_code == 200
    assert (await pat.client.get("/api/users")).status_code == 403
    assert (await pat.client.get("/api/auth/me")).json()["roles"] == ["viewer"]


async def test_require_roles_lets_listed_roles_and_admin_through(
    app: FastAPI, admin: Account, make_user: MakeUser
) -> None:
    async def _priority(
        principal: Principal = Depends(require_roles("priority_manager", "project_owner")),
    ) -> dict[str, str]:
        return {"user": principal.username}

    # Ahead of the dashboard's catch-all mount, like the API's own routes.
    app.router.routes.insert(0, APIRoute("/api/test-priority", _priority, methods=["GET"]))

    manager = await make_user("max", "priority_manager")
    member = await make_user("meg", "member")
    assert (await manager.client.get("/api/test-priority")).json() == {"user": "max"}
    assert (await admin.client.get("/api/test-priority")).json() == {"user": "root"}
    refused = await member.client.get("/api/test-priority")
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "This needs one of these roles: priority_manager, project_owner."
    )


def test_require_roles_refuses_unknown_role_names() -> None:
    with pytest.raises(ValueError, match="known role"):
        require_roles("superuser")
    with pytest.raises(ValueError, match="known role"):
        require_roles()
