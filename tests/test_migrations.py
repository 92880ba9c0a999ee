"""Migrations produce exactly the models' schema; ``downgrade base`` empties the database."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from merge_assist.kit import migrate
from merge_assist.kit.db import create_engine
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


def test_the_migrations_form_one_line() -> None:
    """Parallel branches each add a migration; merged, they must be chained into one head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite+aiosqlite://"))
    assert len(scripts.get_heads()) == 1, scripts.get_heads()
    assert len(scripts.get_bases()) == 1, scripts.get_bases()
