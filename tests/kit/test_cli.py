"""``kit.cli``: one unit of work per command and one exit-code policy (0 done, 1 refused, 2
cannot run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.cli import EXIT_CANNOT_RUN, EXIT_REFUSED, run_action, run_unit_of_work
from merge_assist.kit.errors import Conflict
from merge_assist.kit.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        _env_file=None,  # type: ignore[call-arg]
    )


async def _create_table(session: AsyncSession) -> None:
    await session.execute(text("CREATE TABLE notes (body VARCHAR(20))"))


async def _count(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT count(*) FROM notes"))).scalar_one())


def test_a_unit_of_work_commits_and_returns_its_result(settings: Settings) -> None:
    async def add(session: AsyncSession) -> str:
        await session.execute(text("INSERT INTO notes VALUES ('kept')"))
        return "added"

    run_unit_of_work(_create_table, settings=settings)
    assert run_unit_of_work(add, settings=settings) == "added"
    assert run_unit_of_work(_count, settings=settings) == 1


def test_a_refusal_exits_1_with_its_sentence_and_commits_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async def add_then_refuse(session: AsyncSession) -> None:
        await session.execute(text("INSERT INTO notes VALUES ('dropped')"))
        raise Conflict("There is a note already.")

    run_unit_of_work(_create_table, settings=settings)
    with pytest.raises(typer.Exit) as exited:
        run_unit_of_work(add_then_refuse, settings=settings)
    assert exited.value.exit_code == EXIT_REFUSED == 1
    assert capsys.readouterr().err == "Error: There is a note already.\n"
    assert run_unit_of_work(_count, settings=settings) == 0


def test_a_database_without_the_schema_exits_2_and_says_what_to_run(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as exited:
        run_unit_of_work(_count, settings=settings)
    assert exited.value.exit_code == EXIT_CANNOT_RUN == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: the database cannot be used")
    assert "`merge-assist db upgrade`" in err


def test_migrate_first_brings_the_schema(settings: Settings) -> None:
    async def users(session: AsyncSession) -> int:
        return int((await session.execute(text("SELECT count(*) FROM users"))).scalar_one())

    assert run_unit_of_work(users, settings=settings, migrate_first=True) == 0


def test_an_action_shares_the_refusal_policy(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse() -> None:
        raise Conflict("Not twice.")

    assert run_action(lambda: 42) == 42
    with pytest.raises(typer.Exit) as exited:
        run_action(refuse)
    assert exited.value.exit_code == EXIT_REFUSED
    assert capsys.readouterr().err == "Error: Not twice.\n"
