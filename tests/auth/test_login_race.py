"""Login throttling under parallel attempts, and the trusted-proxies rule for the address."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from merge_assist.kit.settings import Settings
from tests.auth.conftest import Account

MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Throttling as shipped (5 per user), the address limit out of the way."""
    return settings.model_copy(
        update={"login_max_failures_per_user": 5, "login_max_failures_per_address": 1000}
    )


async def _wrong(client: httpx.AsyncClient, username: str) -> int:
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": "not-the-password"}
    )
    assert response.status_code in (401, 429), response.text
    return response.status_code


async def test_parallel_wrong_passwords_get_429_beyond_the_limit(
    admin: Account, make_client: MakeClient
) -> None:
    clients = [make_client(f"10.0.0.{n}") for n in range(1, 16)]
    codes = Counter(await asyncio.gather(*(_wrong(c, "root") for c in clients)))
    assert codes == {401: 5, 429: 10}
    # Even the right password waits now.
    right = await make_client("10.0.1.1").post(
        "/api/auth/login", json={"username": "root", "password": admin.password}
    )
    assert right.status_code == 429
    assert "try again in" in right.json()["detail"]


async def _wrong_from(client: httpx.AsyncClient, username: str, forwarded: str) -> int:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": "not-the-password"},
        headers={"X-Forwarded-For": forwarded},
    )
    return response.status_code


async def test_behind_a_trusted_proxy_one_noisy_client_does_not_lock_out_the_others(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    settings.login_max_failures_per_address = 3
    settings.trusted_proxies = "10.9.0.0/24"
    proxy = make_client("10.9.0.5")
    codes = [await _wrong_from(proxy, f"nobody{n}", "203.0.113.7") for n in range(4)]
    assert codes == [401, 401, 401, 429]
    # Another person behind the same proxy still signs in.
    response = await proxy.post(
        "/api/auth/login",
        json={"username": "root", "password": admin.password},
        headers={"X-Forwarded-For": "198.51.100.2"},
    )
    assert response.status_code == 200, response.text


async def test_forwarded_header_from_an_untrusted_peer_is_ignored(
    admin: Account, make_client: MakeClient, settings: Settings
) -> None:
    settings.login_max_failures_per_address = 3
    attacker = make_client("203.0.113.50")
    # A fresh made-up X-Forwarded-For per attempt does not dodge the address limit.
    codes = [await _wrong_from(attacker, f"nobody{n}", f"192.0.2.{n}") for n in range(4)]
    assert codes == [401, 401, 401, 429]
