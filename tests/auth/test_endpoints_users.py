"""User administration endpoints through the real app."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.auth.conftest import USER_PASSWORD, Account, MakeUser, sign_in

MakeClient = Callable[..., httpx.AsyncClient]


async def test_create_and_read_a_user(admin: Account, make_client: MakeClient) -> None:
    response = await admin.client.post(
        "/api/users",
        json={
            "username": "Ada.Lovelace",
            "display_name": "  Ada Lovelace ",
            "email": "ada@example.com",
            "password": USER_PASSWORD,
            "roles": ["member", "priority_manager"],
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "ada.lovelace"
    assert created["display_name"] == "Ada Lovelace"
    assert created["roles"] == ["member", "priority_manager"]
    assert created["has_password"] is True
    assert "password" not in created
    assert "password_hash" not in created
    fetched = await admin.client.get(f"/api/users/{created['id']}")
    assert fetched.json() == created
    assert (await sign_in(make_client(), "ADA.lovelace", USER_PASSWORD)).status_code == 200


async def test_roles_default_to_the_configured_role(admin: Account) -> None:
    response = await admin.client.post(
        "/api/users", json={"username": "newbie", "password": USER_PASSWORD}
    )
    assert response.status_code == 201
    assert response.json()["roles"] == ["member"]


async def test_duplicate_username_ignoring_case_is_409(admin: Account) -> None:
    response = await admin.client.post(
        "/api/users", json={"username": "ROOT", "password": USER_PASSWORD}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "The username 'root' is already taken."


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"username": "ab"}, "username: a username has 3 to 64 characters"),
        ({"username": "a" * 65}, "username: a username has 3 to 64"),
        ({"username": "with space"}, "username: a username has"),
        ({"username": 123}, "username: Input should be a valid string"),
        ({"display_name": "d" * 129}, "display_name: String should have at most 128"),
        ({"email": "not-an-email"}, "email: this is not an email address"),
        ({"password": "short"}, "password: String should have at least 12"),
        ({"password": "p" * 257}, "password: String should have at most 256"),
        ({"roles": ["emperor"]}, "roles.0: Input should be 'admin'"),
        ({"roles": "admin"}, "roles: Input should be a valid list"),
        ({"is_admin": True}, "is_admin: Extra inputs are not permitted"),
    ],
)
async def test_bad_user_input_is_a_422_sentence(
    admin: Account, changes: dict[str, object], fragment: str
) -> None:
    body = {"username": "valid-name", "password": USER_PASSWORD, **changes}
    response = await admin.client.post("/api/users", json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize(
    "changes",
    [
        {"username": "merge-assist"},
        {"username": "system"},
        {"display_name": "MERGE ASSIST"},
        {"display_name": "Merge Ass1st"},
    ],
)
async def test_names_reading_as_the_system_are_refused(
    admin: Account, changes: dict[str, object]
) -> None:
    """Issue 13, item 11: nobody may pose as the system in messages."""
    body = {"username": "valid-name", "password": USER_PASSWORD, **changes}
    response = await admin.client.post("/api/users", json=body)
    assert response.status_code == 422, response.text
    assert "the name of the system's own messages" in response.json()["detail"]


async def test_a_display_name_cannot_be_changed_to_the_system_s(
    admin: Account, make_user: MakeUser
) -> None:
    user = await make_user("eve")
    response = await admin.client.patch(f"/api/users/{user.id}", json={"display_name": "System"})
    assert response.status_code == 422
    assert "choose another one" in response.json()["detail"]


async def test_malformed_json_body_is_a_422_sentence(admin: Account) -> None:
    response = await admin.client.post(
        "/api/users", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/users/4242"),
        ("PATCH", "/api/users/4242"),
        ("POST", "/api/users/4242/deactivate"),
    ],
)
async def test_unknown_user_is_404(admin: Account, method: str, path: str) -> None:
    body = {} if method != "GET" else None
    response = await admin.client.request(method, path, json=body)
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no user with id 4242."


@pytest.mark.parametrize("user_id", ["abc", "0", "99999999999999"])
async def test_bad_user_id_is_422(admin: Account, user_id: str) -> None:
    response = await admin.client.get(f"/api/users/{user_id}")
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid request: user_id")


async def test_list_is_paginated_and_searchable(admin: Account, make_user: MakeUser) -> None:
    for name in ("alpha", "bravo", "charlie"):
        await make_user(name, "viewer")
    page = (await admin.client.get("/api/users", params={"per_page": 2})).json()
    assert page["total"] == 4
    assert [u["username"] for u in page["items"]] == ["alpha", "bravo"]
    second = (await admin.client.get("/api/users", params={"per_page": 2, "page": 2})).json()
    assert [u["username"] for u in second["items"]] == ["charlie", "root"]
    found = (await admin.client.get("/api/users", params={"q": "RAV"})).json()
    assert [u["username"] for u in found["items"]] == ["bravo"]
    wildcard = (await admin.client.get("/api/users", params={"q": "%"})).json()
    assert wildcard["items"] == []
    bad = await admin.client.get("/api/users", params={"per_page": 0})
    assert bad.status_code == 422


async def test_patch_changes_only_what_is_sent(admin: Account, make_user: MakeUser) -> None:
    eve = await make_user("eve", "member")
    await admin.client.patch(f"/api/users/{eve.id}", json={"email": "eve@example.org"})
    response = await admin.client.patch(f"/api/users/{eve.id}", json={"display_name": "Eve"})
    assert response.status_code == 200
    body = response.json()
    assert (body["display_name"], body["email"], body["roles"]) == (
        "Eve",
        "eve@example.org",
        ["member"],
    )
    cleared = await admin.client.patch(f"/api/users/{eve.id}", json={"email": None})
    assert cleared.json()["email"] is None


async def test_patch_password_ends_sign_ins_and_sets_the_new_one(
    admin: Account, make_user: MakeUser, make_client: MakeClient
) -> None:
    fay = await make_user("fay", "member")
    new_password = "a brand new password"
    response = await admin.client.patch(f"/api/users/{fay.id}", json={"password": new_password})
    assert response.status_code == 200
    refresh = await fay.client.post("/api/auth/refresh", json={"refresh_token": fay.refresh_token})
    assert refresh.status_code == 401
    assert (await sign_in(make_client(), "fay", USER_PASSWORD)).status_code == 401
    assert (await sign_in(make_client(), "fay", new_password)).status_code == 200


async def test_deactivate_and_reactivate(admin: Account, make_user: MakeUser) -> None:
    gus = await make_user("gus", "member")
    response = await admin.client.post(f"/api/users/{gus.id}/deactivate")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    refresh = await gus.client.post("/api/auth/refresh", json={"refresh_token": gus.refresh_token})
    assert refresh.status_code == 401
    again = await admin.client.post(f"/api/users/{gus.id}/deactivate")
    assert again.status_code == 200
    back = await admin.client.patch(f"/api/users/{gus.id}", json={"is_active": True})
    assert back.json()["is_active"] is True


async def test_admin_cannot_deactivate_themselves(admin: Account, make_user: MakeUser) -> None:
    await make_user("second", "admin")
    for response in (
        await admin.client.post(f"/api/users/{admin.id}/deactivate"),
        await admin.client.patch(f"/api/users/{admin.id}", json={"is_active": False}),
    ):
        assert response.status_code == 409
        assert (
            response.json()["detail"]
            == "You cannot deactivate your own account; ask another admin."
        )
    assert (await admin.client.get("/api/auth/me")).status_code == 200


async def test_the_last_active_admin_is_kept(admin: Account, make_user: MakeUser) -> None:
    response = await admin.client.patch(f"/api/users/{admin.id}", json={"roles": ["member"]})
    assert response.status_code == 409
    assert "last active admin" in response.json()["detail"]
    assert (await admin.client.get("/api/auth/me")).json()["roles"] == ["admin"]

    other = await make_user("other-admin", "admin")
    demoted = await admin.client.patch(f"/api/users/{admin.id}", json={"roles": ["member"]})
    assert demoted.status_code == 200
    # root is no admin any more; the other admin cannot now deactivate themselves or demote
    refused = await other.client.patch(f"/api/users/{other.id}", json={"roles": ["viewer"]})
    assert refused.status_code == 409
    assert "last active admin" in refused.json()["detail"]
