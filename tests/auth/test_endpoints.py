"""Sign-in endpoints through the real app: login, refresh rotation and reuse, logout, me."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.auth.conftest import ADMIN_PASSWORD, Account, MakeUser, sign_in

MakeClient = Callable[..., httpx.AsyncClient]


async def test_login_with_json(admin: Account, make_client: MakeClient) -> None:
    response = await sign_in(make_client(), "root", ADMIN_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"].count(".") == 2
    assert len(body["refresh_token"]) >= 43


async def test_login_with_the_oauth2_form(admin: Account, make_client: MakeClient) -> None:
    client = make_client()
    response = await client.post(
        "/api/auth/login",
        data={"grant_type": "password", "username": "root", "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["username"] == "root"


async def test_username_is_case_insensitive(admin: Account, make_client: MakeClient) -> None:
    response = await sign_in(make_client(), "RooT", ADMIN_PASSWORD)
    assert response.status_code == 200


async def test_me_describes_the_signed_in_user(admin: Account) -> None:
    response = await admin.client.get("/api/auth/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": admin.id,
        "username": "root",
        "display_name": "root",
        "email": None,
        "roles": ["admin"],
        "is_active": True,
    }


async def test_wrong_password_and_unknown_user_look_the_same(
    admin: Account, make_client: MakeClient
) -> None:
    client = make_client()
    wrong = await sign_in(client, "root", "not the right password")
    unknown = await sign_in(client, "nobody-here", "not the right password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["detail"] == "The username or password is not correct."


async def test_refresh_rotates_and_the_old_token_stops_working(
    admin: Account, make_client: MakeClient
) -> None:
    client = make_client()
    first = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != admin.refresh_token
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert me.status_code == 200

    reuse = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    # the reuse ended the whole family: the newer token is dead too
    after = await client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401


async def test_reuse_leaves_other_sign_ins_alone(admin: Account, make_client: MakeClient) -> None:
    client = make_client()
    other = (await sign_in(client, "root", ADMIN_PASSWORD)).json()["refresh_token"]
    await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    response = await client.post("/api/auth/refresh", json={"refresh_token": other})
    assert response.status_code == 200


async def test_unknown_refresh_token_is_refused(admin: Account, make_client: MakeClient) -> None:
    response = await make_client().post("/api/auth/refresh", json={"refresh_token": "nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "The refresh token is not valid; sign in again."


async def test_logout_ends_that_sign_in_only(admin: Account, make_client: MakeClient) -> None:
    client = make_client()
    other = (await sign_in(client, "root", ADMIN_PASSWORD)).json()["refresh_token"]
    response = await client.post("/api/auth/logout", json={"refresh_token": admin.refresh_token})
    assert response.status_code == 204
    refused = await client.post("/api/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert refused.status_code == 401
    kept = await client.post("/api/auth/refresh", json={"refresh_token": other})
    assert kept.status_code == 200


async def test_logout_everywhere_ends_every_sign_in(
    admin: Account, make_client: MakeClient
) -> None:
    client = make_client()
    other = (await sign_in(client, "root", ADMIN_PASSWORD)).json()["refresh_token"]
    response = await client.post(
        "/api/auth/logout", json={"refresh_token": admin.refresh_token, "everywhere": True}
    )
    assert response.status_code == 204
    refused = await client.post("/api/auth/refresh", json={"refresh_token": other})
    assert refused.status_code == 401


async def test_logout_of_an_unknown_token_is_harmless(
    admin: Account, make_client: MakeClient
) -> None:
    response = await make_client().post("/api/auth/logout", json={"refresh_token": "unknown"})
    assert response.status_code == 204
    assert (await admin.client.get("/api/auth/me")).status_code == 200


async def test_deactivated_user_cannot_sign_in_or_refresh(
    admin: Account, make_user: MakeUser, make_client: MakeClient
) -> None:
    dora = await make_user("dora", "member")
    assert (await admin.client.post(f"/api/users/{dora.id}/deactivate")).status_code == 200
    response = await sign_in(make_client(), "dora", dora.password)
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]
    refreshed = await make_client().post(
        "/api/auth/refresh", json={"refresh_token": dora.refresh_token}
    )
    assert refreshed.status_code == 401


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            "not valid JSON",
        ),
        ({"content": b"", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        ({"json": {"username": "root"}}, "password"),
        ({"json": {"username": 12, "password": ["x"]}}, "username"),
        ({"json": {"username": "root", "password": "x" * 257}}, "at most 256"),
        ({"json": {"username": "r" * 129, "password": "x"}}, "at most 128"),
        ({"data": {"username": "root"}}, "password"),
        ({"json": ["root", "pw"]}, "Invalid request"),
    ],
)
async def test_bad_login_input_is_a_422_sentence(
    admin: Account, make_client: MakeClient, kwargs: dict[str, object], fragment: str
) -> None:
    response = await make_client().post("/api/auth/login", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert ADMIN_PASSWORD not in response.text


async def test_oversized_login_body_is_refused(admin: Account, make_client: MakeClient) -> None:
    body = b'{"username": "root", "password": "' + b"x" * 20000 + b'"}'
    response = await make_client().post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "The sign-in request is too large."


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": 5}, {"refresh_token": ""}, {"refresh_token": "x" * 513}],
)
async def test_bad_refresh_input_is_a_422_sentence(
    admin: Account, make_client: MakeClient, body: dict[str, object]
) -> None:
    response = await make_client().post("/api/auth/refresh", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Invalid request: refresh_token")


async def test_openapi_documents_both_login_bodies(admin: Account) -> None:
    spec = (await admin.client.get("/openapi.json")).json()
    content = spec["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded"}
