"""The refresh token in an httpOnly cookie (browsers) with the CSRF double-submit check."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry
from merge_assist.auth.cookies import CSRF_COOKIE, REFRESH_COOKIE
from merge_assist.kit.settings import Settings
from tests.auth.conftest import USER_PASSWORD, Account, MakeUser

COOKIE_TRANSPORT = {"X-Refresh-Transport": "cookie"}


def set_cookies(response: httpx.Response) -> dict[str, Any]:
    """The cookies a response sets, by name, with their attributes."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return {name: jar[name] for name in jar}


def has_flag(response: httpx.Response, name: str, flag: str) -> bool:
    """Whether the Set-Cookie header of ``name`` carries the flag (e.g. HttpOnly)."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, headers
    return flag.lower() in [part.strip().lower() for part in headers[0].split(";")]


async def browser_sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": USER_PASSWORD},
        headers=COOKIE_TRANSPORT,
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
async def browser(
    make_user: MakeUser, make_client: Callable[..., httpx.AsyncClient]
) -> httpx.AsyncClient:
    """A client (with a cookie jar) signed in as 'ann' with cookie transport."""
    await make_user("ann")
    client = make_client()
    await browser_sign_in(client, "ann")
    return client


def csrf_header(client: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies[CSRF_COOKIE]}


async def test_cookie_transport_sets_the_cookies_and_leaves_the_token_out_of_the_body(
    make_user: MakeUser, make_client: Callable[..., httpx.AsyncClient]
) -> None:
    await make_user("ann")
    response = await browser_sign_in(make_client(), "ann")
    assert "refresh_token" not in response.json()
    assert response.json()["access_token"]
    cookies = set_cookies(response)
    refresh, csrf = cookies[REFRESH_COOKIE], cookies[CSRF_COOKIE]
    assert refresh.value not in response.text
    assert refresh["path"] == "/api/auth"
    assert refresh["samesite"] == "strict"
    assert int(refresh["max-age"]) == 14 * 24 * 3600
    assert has_flag(response, REFRESH_COOKIE, "HttpOnly")
    assert not has_flag(response, REFRESH_COOKIE, "Secure")
    assert csrf["path"] == "/"
    assert csrf["samesite"] == "strict"
    assert not has_flag(response, CSRF_COOKIE, "HttpOnly")
    assert csrf.value != refresh.value


async def test_cookies_are_secure_when_the_public_url_is_https(
    app: Any,
    settings: Settings,
    make_user: MakeUser,
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    await make_user("ann")
    app.state.resources.settings = settings.model_copy(
        update={"public_url": "https://merge.example.com"}
    )
    response = await browser_sign_in(make_client(), "ann")
    refresh, csrf = f"__Host-{REFRESH_COOKIE}", f"__Host-{CSRF_COOKIE}"
    assert has_flag(response, refresh, "Secure")
    assert has_flag(response, csrf, "Secure")
    # What browsers demand of __Host- cookies: Secure, Path=/, no Domain.
    for name, cookie in set_cookies(response).items():
        assert name in (refresh, csrf)
        assert cookie["path"] == "/"
        assert not cookie["domain"]


async def test_over_https_the_host_prefixed_cookies_refresh_and_log_out(
    app: Any, settings: Settings, make_user: MakeUser
) -> None:
    await make_user("ann")
    app.state.resources.settings = settings.model_copy(update={"public_url": "https://testserver"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        await browser_sign_in(client, "ann")
        csrf = {"X-CSRF-Token": client.cookies[f"__Host-{CSRF_COOKIE}"]}
        refreshed = await client.post("/api/auth/refresh", headers=csrf)
        assert refreshed.status_code == 200, refreshed.text
        planted = await client.post(
            "/api/auth/refresh",
            headers={"X-CSRF-Token": "x", "Cookie": f"{REFRESH_COOKIE}=planted"},
        )
        assert planted.status_code == 401  # the unprefixed name is not read over https
        csrf = {"X-CSRF-Token": client.cookies[f"__Host-{CSRF_COOKIE}"]}
        response = await client.post("/api/auth/logout", headers=csrf)
        assert response.status_code == 204
        cleared = set_cookies(response)
        assert set(cleared) == {f"__Host-{REFRESH_COOKIE}", f"__Host-{CSRF_COOKIE}"}
        assert all(cookie["path"] == "/" for cookie in cleared.values())


async def test_without_the_header_the_token_stays_in_the_body_and_no_cookie_is_set(
    admin: Account, make_client: Callable[..., httpx.AsyncClient]
) -> None:
    response = await make_client().post(
        "/api/auth/login", json={"username": "root", "password": admin.password}
    )
    assert response.json()["refresh_token"]
    assert response.headers.get_list("set-cookie") == []


async def test_refresh_with_the_cookie_and_csrf_header_rotates_the_cookie(
    browser: httpx.AsyncClient,
) -> None:
    old_refresh = browser.cookies[REFRESH_COOKIE]
    old_csrf = browser.cookies[CSRF_COOKIE]
    response = await browser.post("/api/auth/refresh", headers=csrf_header(browser))
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    new_refresh = set_cookies(response)[REFRESH_COOKIE].value
    assert new_refresh != old_refresh
    assert browser.cookies[REFRESH_COOKIE] == new_refresh
    assert browser.cookies[CSRF_COOKIE] != old_csrf
    me = await browser.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["username"] == "ann"
    # The rotated-away token is dead: presenting it again ends the whole sign-in.
    reused = await browser.post("/api/auth/refresh", json={"refresh_token": old_refresh})
    assert reused.status_code == 401
    again = await browser.post("/api/auth/refresh", headers=csrf_header(browser))
    assert again.status_code == 401


async def test_refresh_with_the_cookie_needs_the_csrf_header(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/api/auth/refresh")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "The X-CSRF-Token header is missing: send the value of the merge_assist_csrf cookie "
        "with this request."
    )


async def test_a_wrong_csrf_header_is_refused(browser: httpx.AsyncClient) -> None:
    response = await browser.post("/api/auth/refresh", headers={"X-CSRF-Token": "0" * 64})
    assert response.status_code == 403
    assert "does not match this sign-in" in response.json()["detail"]


async def test_a_planted_csrf_cookie_with_a_matching_header_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    # An attacker who can set cookies for the site (e.g. from a sibling subdomain) plants a
    # CSRF cookie of their choice; the value is bound to the refresh token, so it fails.
    browser.cookies.set(CSRF_COOKIE, "planted-by-someone-else", domain="testserver", path="/")
    response = await browser.post(
        "/api/auth/refresh", headers={"X-CSRF-Token": "planted-by-someone-else"}
    )
    assert response.status_code == 403


async def test_refresh_without_a_body_or_a_cookie_is_a_401(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    response = await make_client().post("/api/auth/refresh")
    assert response.status_code == 401
    assert "no refresh token" in response.json()["detail"]


async def test_logout_with_the_cookie_ends_the_sign_in_and_clears_both_cookies(
    browser: httpx.AsyncClient,
) -> None:
    refresh = browser.cookies[REFRESH_COOKIE]
    response = await browser.post("/api/auth/logout", headers=csrf_header(browser))
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert cleared[REFRESH_COOKIE].value == ""
    assert cleared[REFRESH_COOKIE]["path"] == "/api/auth"
    assert int(cleared[REFRESH_COOKIE]["max-age"]) == 0
    assert cleared[CSRF_COOKIE]["path"] == "/"
    assert int(cleared[CSRF_COOKIE]["max-age"]) == 0
    assert REFRESH_COOKIE not in browser.cookies
    dead = await browser.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert dead.status_code == 401


async def test_logout_with_the_cookie_but_no_csrf_header_is_refused(
    browser: httpx.AsyncClient,
) -> None:
    response = await browser.post("/api/auth/logout")
    assert response.status_code == 403
    refreshed = await browser.post("/api/auth/refresh", headers=csrf_header(browser))
    assert refreshed.status_code == 200


async def test_logout_all_ends_every_sign_in_of_the_caller_and_is_audited(
    make_user: MakeUser,
    make_client: Callable[..., httpx.AsyncClient],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ann = await make_user("ann")
    other = await make_user("bob")
    second_browser = make_client()
    await browser_sign_in(second_browser, "ann")
    response = await ann.client.post("/api/auth/logout-all")
    assert response.status_code == 204
    assert set(set_cookies(response)) == {REFRESH_COOKIE, CSRF_COOKIE}
    gone = await ann.client.post("/api/auth/refresh", json={"refresh_token": ann.refresh_token})
    assert gone.status_code == 401
    gone_too = await second_browser.post("/api/auth/refresh", headers=csrf_header(second_browser))
    assert gone_too.status_code == 401
    kept = await other.client.post("/api/auth/refresh", json={"refresh_token": other.refresh_token})
    assert kept.status_code == 200
    async with sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "auth.logout", AuditEntry.actor_id == ann.id
                )
            )
        ).all()
    assert len(entries) == 1
    assert entries[0].details == {"everywhere": True}


async def test_logout_all_needs_a_signed_in_user(
    make_client: Callable[..., httpx.AsyncClient],
) -> None:
    response = await make_client().post("/api/auth/logout-all")
    assert response.status_code == 401
