"""Vault test fixtures: signed-in people with display names, and helpers acting as them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import accounts
from merge_assist.auth.audit_port import NullAuditSink
from merge_assist.auth.schemas import UserCreate
from merge_assist.auth.tokens import issue_access_token
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings

FILES = "/api/vault/default/files"


@dataclass(frozen=True)
class Person:
    """A user made for a test: id, names and the ``Authorization`` header acting as them."""

    id: int
    username: str
    display_name: str
    headers: dict[str, str]


People = dict[str, Person]
Upload = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def people(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> People:
    """alice and bob (members), ada (admin), victor (viewer), each with a display name."""
    made: People = {}
    for username, display, role in (
        ("alice", "Alice Archer", "member"),
        ("bob", "Bob Baker", "member"),
        ("ada", "Ada Admin", "admin"),
        ("victor", "Victor Viewer", "viewer"),
    ):
        async with unit_of_work(sessions) as session:
            user = await accounts.create_user(
                session,
                settings,
                NullAuditSink(),
                actor_id=None,
                data=UserCreate(
                    username=username,
                    display_name=display,
                    email=f"{username}@shop.example",
                    password=f"{username}-password-long-enough",
                    roles=[role],  # type: ignore[list-item]
                ),
            )
        token = issue_access_token(user.id, key=settings.resolved_secret_key(), minutes=15)
        headers = {"Authorization": f"Bearer {token.token}"}
        made[username] = Person(user.id, username, display, headers)
    return made


@pytest.fixture
def upload(client: httpx.AsyncClient) -> Upload:
    """Upload ``content`` as ``name`` by ``person``; returns the new file's JSON (201 asserted)."""

    async def run(person: Person, name: str, content: bytes, **form: str) -> dict[str, Any]:
        response = await client.post(
            FILES, headers=person.headers, files={"file": (name, content)}, data=form
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return run
