"""Shared fixtures: the database under test (SQLite or PostgreSQL), settings, app and client.

Select the database with ``--db sqlite|postgres`` (or ``MERGE_ASSIST_TEST_DB``). PostgreSQL needs
``MERGE_ASSIST_TEST_POSTGRES_URL`` (``scripts/test-services start`` prints it). Tests that use
the database are marked ``db`` automatically, so the PostgreSQL pass can run only those.
Tests marked ``postgres`` run only in the PostgreSQL pass: on SQLite they are deselected (not
skipped), e.g. the multi-process cluster test, which SQLite cannot serve.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from merge_assist.kit.db import create_engine, create_sessionmaker, unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.models import metadata
from tests.redis_server import private_redis

DB_FIXTURES = {"database_url", "engine", "sessions", "app", "client", "settings", "make_account"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("MERGE_ASSIST_TEST_DB", "sqlite"),
        help="database the suite runs against",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
    if config.getoption("--db") != "postgres":
        postgres_only = [item for item in items if item.get_closest_marker("postgres")]
        if postgres_only:
            config.hook.pytest_deselected(items=postgres_only)
            items[:] = [item for item in items if not item.get_closest_marker("postgres")]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands run in-process configure the root logger with the test's captured stderr;
    put it back, so later tests never log into a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.config.getoption("--db")
    return kind


@pytest.fixture(scope="session")
def postgres_server_url(db_kind: str) -> str | None:
    if db_kind != "postgres":
        return None
    url = os.environ.get("MERGE_ASSIST_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("--db postgres needs MERGE_ASSIST_TEST_POSTGRES_URL (scripts/test-services)")
    return url


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture
async def database_url(
    db_kind: str, postgres_server_url: str | None, tmp_path: Path
) -> AsyncIterator[str]:
    """An empty database of the selected kind, dropped after the test."""
    if db_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    assert postgres_server_url is not None
    name = f"ma_test_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_server_url, f'CREATE DATABASE "{name}"')
    yield postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
    await _admin(postgres_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database holding the current schema."""
    eng = create_engine(database_url, poolclass=NullPool)
    async with eng.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine, settings: Settings) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine, settings)  # the settings: the audit key, as the app's


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        allowed_hosts="testserver",  # the Host of the test clients (httpx, Starlette)
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine) -> Iterator[object]:
    from merge_assist.server.app import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


MakeAccount = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_account(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> MakeAccount:
    """Create a user with ``roles`` (none given: the default role; ``no_roles=True``: not even
    that) in the database; returns its ``Authorization`` header."""
    from merge_assist.auth import accounts
    from merge_assist.auth.audit_port import NullAuditSink
    from merge_assist.auth.schemas import UserCreate
    from merge_assist.auth.tokens import issue_access_token

    async def make(username: str, *roles: str, no_roles: bool = False) -> dict[str, str]:
        async with unit_of_work(sessions) as session:
            user = await accounts.create_user(
                session,
                settings,
                NullAuditSink(),
                actor_id=None,
                data=UserCreate(
                    username=username,
                    password=f"{username}-password-long-enough",
                    roles=[] if no_roles else (list(roles) or None),  # type: ignore[arg-type]
                ),
            )
        token = issue_access_token(
            user.id, key=settings.resolved_secret_key(), minutes=settings.access_token_minutes
        )
        return {"Authorization": f"Bearer {token.token}"}

    return make


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private, empty redis-server for the test (ids repeat between tests, and other
    suites share the Redis of ``scripts/test-services``)."""
    with private_redis(tmp_path) as url:
        yield url
