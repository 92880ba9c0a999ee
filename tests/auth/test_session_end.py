"""Ending sign-ins ends the access tokens too: sign-out everywhere, new password and
deactivation; a refresh token that no longer works cannot sign anybody out."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.auth.conftest import USER_PASSWORD, Account, MakeUser, sign_in

MakeClient = Callable[..., httpx.AsyncClient]


async def _me(account: Account) -> int:
    return (await account.client.get("/api/auth/me")).status_code


async def test_logout_all_ends_the_access_token_at_once(
    make_user: MakeUser, make_client: MakeClient
) -> None:
    bob = await make_user("bob", "member")
    assert await _me(bob) == 200
    assert (await bob.client.post("/api/auth/logout-all")).status_code == 204
    refused = await bob.client.get("/api/auth/me")
    assert refused.status_code == 401
    assert "ended" in refused.json()["detail"]
    # Signing in again right away works.
    again = await sign_in(make_client(), "bob", USER_PASSWORD)
    token = again.json()["access_token"]
    me = await make_client().get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


async def test_logout_everywhere_with_the_refresh_token_ends_access_tokens(
    make_user: MakeUser, make_client: MakeClient
) -> None:
    bob = await make_user("bob", "member")
    response = await make_client().post(
        "/api/auth/logout", json={"refresh_token": bob.refresh_token, "everywhere": True}
    )
    assert response.status_code == 204
    assert await _me(bob) == 401


async def test_a_new_password_ends_the_access_token(admin: Account, make_user: MakeUser) -> None:
    bob = await make_user("bob", "member")
    changed = await admin.client.patch(
        f"/api/users/{bob.id}", json={"password": "another-password-long-enough"}
    )
    assert changed.status_code == 200, changed.text
    assert await _me(bob) == 401
    assert await _me(admin) == 200  # only bob's sign-ins end


async def test_deactivation_ends_the_access_token(admin: Account, make_user: MakeUser) -> None:
    bob = await make_user("bob", "member")
    assert (await admin.client.post(f"/api/users/{bob.id}/deactivate")).status_code == 200
    assert await _me(bob) == 401
    reactivated = await admin.client.patch(f"/api/users/{bob.id}", json={"is_active": True})
    assert reactivated.status_code == 200
    assert await _me(bob) == 401  # the old token stays dead


async def test_a_role_change_applies_to_the_same_token(admin: Account, make_user: MakeUser) -> None:
    # Roles are read on every request: the token stays, its rights change at once.
    bob = await make_user("bob", "member")
    changed = await admin.client.patch(f"/api/users/{bob.id}", json={"roles": ["viewer"]})
    assert changed.status_code == 200
    me = await bob.client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["roles"] == ["viewer"]


async def test_a_revoked_refresh_token_cannot_sign_out_everywhere(
    make_user: MakeUser, make_client: MakeClient
) -> None:
    bob = await make_user("bob", "member")
    old = bob.refresh_token
    # Bob signs out of that sign-in; someone who kept the old token tries to end them all.
    assert (await bob.client.post("/api/auth/logout", json={"refresh_token": old})).status_code
    laptop = await sign_in(make_client(), "bob", USER_PASSWORD)
    laptop_refresh = laptop.json()["refresh_token"]
    response = await make_client().post(
        "/api/auth/logout", json={"refresh_token": old, "everywhere": True}
    )
    assert response.status_code == 204
    assert await _me(bob) == 200
    kept = await make_client().post("/api/auth/refresh", json={"refresh_token": laptop_refresh})
    assert kept.status_code == 200


async def test_a_rotated_refresh_token_cannot_sign_out_everywhere(
    make_user: MakeUser, make_client: MakeClient
) -> None:
    bob = await make_user("bob", "member")
    old = bob.refresh_token
    rotated = await make_client().post("/api/auth/refresh", json={"refresh_token": old})
    assert rotated.status_code == 200
    response = await make_client().post(
        "/api/auth/logout", json={"refresh_token": old, "everywhere": True}
    )
    assert response.status_code == 204
    assert await _me(bob) == 200
    newest = rotated.json()["refresh_token"]
    kept = await make_client().post("/api/auth/refresh", json={"refresh_token": newest})
    assert kept.status_code == 200
