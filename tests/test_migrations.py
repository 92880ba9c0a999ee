"""Migrations produce exactly the models' schema; ``downgrade base`` empties the database."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Boolean, Integer, String, column, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from merge_assist.kit import migrate
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import UTCDateTime, create_engine
from merge_assist.models import metadata


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "target_metadata": metadata}
    )
    return list(compare_metadata(context, metadata))


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str], list[str]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_schema_diff)
            tables = await connection.run_sync(_table_names)
            roles: list[str] = []
            if "roles" in tables:
                rows = await connection.execute(text("SELECT name FROM roles ORDER BY name"))
                roles = [row[0] for row in rows]
    finally:
        await engine.dispose()
    return diff, tables, roles


async def test_upgrade_matches_models_and_downgrade_empties(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url)
    diff, tables, roles = await _inspect(database_url)
    assert diff == []
    assert set(metadata.tables) <= tables
    assert roles == ["admin", "member", "priority_manager", "project_owner", "viewer"]

    await asyncio.to_thread(migrate.downgrade, database_url, "base")
    _, tables, _ = await _inspect(database_url)
    assert tables == {"alembic_version"}


async def test_upgrade_is_idempotent(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url)
    await asyncio.to_thread(migrate.upgrade, database_url)
    _, tables, roles = await _inspect(database_url)
    assert "users" in tables
    assert len(roles) == 5


BEFORE_PARALLEL_TESTS = "20261122_0600"
BEFORE_SKIP_CI_ON_LANDING = "20261206_1800"
BEFORE_PIPELINE_RETRIES = "20261206_1410"
_projects = table(
    "projects",
    column("id", Integer),
    column("gitlab_project_id", Integer),
    column("path_with_namespace", String),
    column("name", String),
    column("created_at", UTCDateTime()),
)
_project_config = table(
    "project_config",
    column("project_id", Integer),
    column("target_branches", JSON),
    column("strategy", String),
    column("batch_size", Integer),
    column("train_depth", Integer),
    column("polling_interval_seconds", Integer),
    column("labels", JSON),
    column("webhook_enabled", Boolean),
    column("max_rejections", Integer),
    column("landing", String),
    column("ai_debug_enabled", Boolean),
    column("updated_at", UTCDateTime()),
)


async def _add_configured_project(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                _projects.insert().values(
                    id=1,
                    gitlab_project_id=7,
                    path_with_namespace="g/app",
                    name="app",
                    created_at=utcnow(),
                )
            )
            await connection.execute(
                _project_config.insert().values(
                    project_id=1,
                    target_branches=["main"],
                    strategy="batch",
                    batch_size=5,
                    train_depth=3,
                    polling_interval_seconds=300,
                    labels={},
                    webhook_enabled=True,
                    max_rejections=3,
                    landing="merge_api",
                    ai_debug_enabled=False,
                    updated_at=utcnow(),
                )
            )
    finally:
        await engine.dispose()


async def _parallel_tests_column(url: str) -> tuple[bool, list[Any]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("project_config")]
            )
            if "parallel_tests" not in columns:
                return False, []
            rows = await connection.execute(select(text("parallel_tests FROM project_config")))
            return True, [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_parallel_tests_defaults_to_4_for_existing_projects(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url, BEFORE_PARALLEL_TESTS)
    await _add_configured_project(database_url)

    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await _parallel_tests_column(database_url) == (True, [4])

    await asyncio.to_thread(migrate.downgrade, database_url, BEFORE_PARALLEL_TESTS)
    assert await _parallel_tests_column(database_url) == (False, [])


async def _config_column(url: str, name: str) -> tuple[bool, list[Any]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("project_config")]
            )
            if name not in columns:
                return False, []
            rows = await connection.execute(select(text(f"{name} FROM project_config")))
            return True, [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_pipeline_retries_defaults_to_1_for_existing_projects(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url, BEFORE_PARALLEL_TESTS)
    await _add_configured_project(database_url)

    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await _config_column(database_url, "pipeline_retries") == (True, [1])

    await asyncio.to_thread(migrate.downgrade, database_url, BEFORE_PIPELINE_RETRIES)
    assert await _config_column(database_url, "pipeline_retries") == (False, [])


async def test_skip_ci_on_landing_is_off_for_existing_projects(database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, database_url, BEFORE_PARALLEL_TESTS)
    await _add_configured_project(database_url)

    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await _config_column(database_url, "skip_ci_on_landing") == (True, [False])

    await asyncio.to_thread(migrate.downgrade, database_url, BEFORE_SKIP_CI_ON_LANDING)
    assert await _config_column(database_url, "skip_ci_on_landing") == (False, [])


def test_the_migrations_form_one_line() -> None:
    """Parallel branches each add a migration; merged, they must be chained into one head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite+aiosqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    assert len(scripts.get_bases()) == 1, scripts.get_bases()
