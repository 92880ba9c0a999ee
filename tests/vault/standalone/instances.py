"""Standalone instances for tests: each its own data folder, SQLite database and app, signed
in as one sandbox user with that user's own GitLab token (as two machines would be)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.pool import NullPool

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.kit.db import create_engine
from merge_assist.kit.settings import Environment, Settings
from merge_assist.models import metadata
from merge_assist.standalone.paths import standalone_settings
from tests.standalone.shared_project import PROJECT, vault_scenario

FOLDER = "parts"
FILES = "/api/vault/default/files"


def open_main_scenario() -> dict[str, Any]:
    """The vault scenario with ``main`` open to developers (they check files in there)."""
    scenario = copy.deepcopy(vault_scenario())
    scenario["projects"][0]["protected_branches"] = []
    return scenario


def instance_settings(
    data_dir: Path, gitlab_url: str | None, project: str | None = PROJECT
) -> Settings:
    """What ``serve --standalone`` runs with, for a data folder of the test."""
    base = Settings(
        environment=Environment.test,
        data_dir=data_dir,
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=gitlab_url,
        gitlab_max_retries=2,
        gitlab_read_timeout_seconds=300,  # a loaded test machine is slow, not a lost answer
        gitlab_backoff_seconds=0.01,
        standalone_project=project,
        standalone_folder=FOLDER,
        _env_file=None,  # type: ignore[call-arg]
    )
    return standalone_settings(base)


@dataclass
class Instance:
    """One running standalone instance and its signed-in user."""

    name: str
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def call(self, method: str, path: str, **options: Any) -> httpx.Response:
        return await self.client.request(method, path, headers=self.headers, **options)


@asynccontextmanager
async def running_instance(
    sandbox: RunningSandbox, data_dir: Path, username: str
) -> AsyncIterator[Instance]:
    """An instance on ``data_dir`` with ``username`` signed in by their GitLab token."""
    from merge_assist.server.app import create_app

    settings = instance_settings(data_dir, sandbox.url)
    engine = create_engine(settings.effective_database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1:8080"
        ) as client:
            signed_in = await client.post(
                "/api/auth/login-gitlab", json={"token": sandbox.token_for(username)}
            )
            assert signed_in.status_code == 200, signed_in.text
            token = signed_in.json()["access_token"]
            yield Instance(username, client, {"Authorization": f"Bearer {token}"})
    finally:
        await engine.dispose()
