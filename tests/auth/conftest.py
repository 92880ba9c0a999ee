"""Auth test fixtures: a migrated database, cheap argon2, the CLI, and signed-in clients."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from merge_assist.cli import app as cli_app
from merge_assist.kit import migrate
from merge_assist.kit.db import create_engine
from merge_assist.kit.settings import Settings, get_settings

ADMIN_PASSWORD = "admin-password-for-tests"
USER_PASSWORD = "user-password-for-tests"

RunCli = Callable[..., Awaitable[Result]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared settings with the cheap argon2 profile (tests only)."""
    return settings.model_copy(update={"password_hash_profile": "test"})


async def _server_statement(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(
    db_kind: str, postgres_server_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database migrated once per session (roles seeded); each test gets a copy of it."""
    if db_kind == "sqlite":
        path = tmp_path_factory.mktemp("auth-template") / "template.sqlite3"
        migrate.upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)
        return
    assert postgres_server_url is not None
    name = f"ma_auth_template_{uuid.uuid4().hex[:12]}"
    asyncio.run(_server_statement(postgres_server_url, f'CREATE DATABASE "{name}"'))
    try:
        migrate.upgrade(postgres_server_url.rsplit("/", 1)[0] + f"/{name}")
        yield name
    finally:
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        asyncio.run(_server_statement(postgres_server_url, statement))


@pytest.fixture
async def database_url(
    db_kind: str, postgres_server_url: str | None, tmp_path: Path, migrated_template: str
) -> AsyncIterator[str]:
    """A fresh copy of the migrated template, dropped after the test."""
    if db_kind == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    assert postgres_server_url is not None
    name = f"ma_test_{uuid.uuid4().hex[:12]}"
    await _server_statement(
        postgres_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"'
    )
    yield postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
    await _server_statement(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated schema (as production has it, roles seeded)."""
    eng = create_engine(database_url, poolclass=NullPool)
    yield eng
    await eng.dispose()


@pytest.fixture
def cli_env(settings: Settings, database_url: str) -> dict[str, str]:
    assert settings.secret_key is not None
    return {
        "MERGE_ASSIST_DATABASE_URL": database_url,
        "MERGE_ASSIST_DATA_DIR": str(settings.data_dir),
        "MERGE_ASSIST_SECRET_KEY": settings.secret_key.get_secret_value(),
        "MERGE_ASSIST_PASSWORD_HASH_PROFILE": "test",
        "MERGE_ASSIST_ENVIRONMENT": "test",
    }


@pytest.fixture
def run_cli(cli_env: dict[str, str], engine: AsyncEngine) -> RunCli:
    """Run ``merge-assist ARGS`` against the test database (in a thread: it has its own loop)."""

    def invoke(args: list[str], stdin: str | None) -> Result:
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(cli_app, args, input=stdin, env=cli_env)
        finally:
            get_settings.cache_clear()

    async def run(*args: str, stdin: str | None = None) -> Result:
        return await asyncio.to_thread(invoke, list(args), stdin)

    return run


@dataclass
class Account:
    """A user made for a test, and how to act as them."""

    id: int
    username: str
    password: str
    client: httpx.AsyncClient
    refresh_token: str = ""

    @property
    def access_token(self) -> str:
        return str(self.client.headers["Authorization"]).removeprefix("Bearer ")


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


@pytest.fixture
async def make_client(app: object) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """New clients of the app, optionally from a given address."""
    opened: list[httpx.AsyncClient] = []

    def make(address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 123))  # type: ignore[arg-type]
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


async def _signed_in(
    client: httpx.AsyncClient, user_id: int, username: str, password: str
) -> Account:
    response = await sign_in(client, username, password)
    assert response.status_code == 200, response.text
    tokens = response.json()
    client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return Account(user_id, username, password, client, tokens["refresh_token"])


@pytest.fixture
async def admin(run_cli: RunCli, make_client: Callable[..., httpx.AsyncClient]) -> Account:
    """An admin created with the CLI, signed in."""
    result = await run_cli(
        "users", "create", "root", "--role", "admin", "--password-stdin", stdin=ADMIN_PASSWORD
    )
    assert result.exit_code == 0, result.output
    user_id = int(result.stdout.split("(id ", 1)[1].split(")", 1)[0])
    return await _signed_in(make_client(), user_id, "root", ADMIN_PASSWORD)


MakeUser = Callable[..., Awaitable[Account]]


@pytest.fixture
def make_user(admin: Account, make_client: Callable[..., httpx.AsyncClient]) -> MakeUser:
    """Create a user through the API as the admin, and sign them in."""

    async def make(username: str, *roles: str) -> Account:
        response = await admin.client.post(
            "/api/users",
            json={"username": username, "password": USER_PASSWORD, "roles": list(roles)},
        )
        assert response.status_code == 201, response.text
        return await _signed_in(make_client(), response.json()["id"], username, USER_PASSWORD)

    return make
