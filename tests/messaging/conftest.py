"""Messaging test fixtures: signed-in people of each role, and helpers acting as them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import NullAuditSink
from merge_assist.kit.db import unit_of_work
from tests.conftest import MakeAccount
from tests.standalone.shared_project import alice, bob, carol, sandbox  # noqa: F401 - fixtures


@dataclass(frozen=True)
class Person:
    """A user made for a test: id, name and the ``Authorization`` header acting as them."""

    id: int
    username: str
    headers: dict[str, str]


MakePerson = Callable[[str, str], Awaitable[Person]]
People = dict[str, Person]


@pytest.fixture
def make_person(make_account: MakeAccount, client: httpx.AsyncClient) -> MakePerson:
    """Create a user with one role and learn their id from ``/api/auth/me``."""

    async def make(username: str, role: str) -> Person:
        headers = await make_account(username, role)
        response = await client.get("/api/auth/me", headers=headers)
        assert response.status_code == 200, response.text
        return Person(response.json()["id"], username, headers)

    return make


@pytest.fixture
async def people(make_person: MakePerson) -> People:
    """alice, bob and carol (members) and victor (viewer)."""
    made = {}
    for username, role in (
        ("alice", "member"),
        ("bob", "member"),
        ("carol", "member"),
        ("victor", "viewer"),
    ):
        made[username] = await make_person(username, role)
    return made


Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def send(client: httpx.AsyncClient) -> Send:
    """``await send(person, to, subject=..., body=..., **extra)``: POST /api/messages."""

    async def post(
        sender: Person, to: Any, subject: str = "Hello", body: str = "A body.", **extra: Any
    ) -> httpx.Response:
        payload = {"to": to, "subject": subject, "body": body, **extra}
        return await client.post("/api/messages", json=payload, headers=sender.headers)

    return post


Deactivate = Callable[[Person], Awaitable[None]]


@pytest.fixture
def deactivate(sessions: async_sessionmaker[AsyncSession]) -> Deactivate:
    """Deactivate a person through the auth feature's service."""

    async def run(person: Person) -> None:
        async with unit_of_work(sessions) as session:
            await accounts.deactivate_user(
                session, NullAuditSink(), actor_id=None, user_id=person.id
            )

    return run
