"""Running a command-line action: one unit of work on the database, one exit-code policy.

Every ``merge-assist`` sub-command that acts through a service runs it here, so they all end
the same way:

- **0** — done.
- **1** — refused: a ``MergeAssistError``. Its sentence goes to stderr as ``Error: <sentence>``
  and nothing is committed. (A command's own refusals exit 1 too, e.g. ``audit verify`` on a
  broken chain or ``secrets get`` of a missing name.)
- **2** — cannot run: a wrong command line (Typer's usage errors), or a database that cannot be
  used (unreachable, or never migrated); the message points at ``merge-assist db upgrade``.

``run_unit_of_work`` runs an async unit of work in one session committed on success (rolled back
on a refusal); ``run_action`` runs a plain action (no database) under the same policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit import migrate
from merge_assist.kit.db import create_engine, create_sessionmaker, unit_of_work
from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.settings import Settings, get_settings

T = TypeVar("T")

EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2

UnitOfWork = Callable[[AsyncSession], Awaitable[T]]


def run_action(action: Callable[[], T]) -> T:
    """Run ``action``; a refusal prints its sentence and exits 1."""
    try:
        return action()
    except MergeAssistError as refusal:
        _refused(refusal)


def run_unit_of_work(
    work: UnitOfWork[T], *, settings: Settings | None = None, migrate_first: bool = False
) -> T:
    """Run ``work`` in one committed unit of work on the settings' database.

    ``migrate_first`` upgrades the database before (for commands an operator runs before any
    server has started, such as creating the first user). A refusal exits 1, an unusable
    database 2.
    """
    chosen = settings or get_settings()
    try:
        if migrate_first:
            migrate.upgrade(chosen.effective_database_url)
        return asyncio.run(_in_unit_of_work(chosen, work))
    except MergeAssistError as refusal:
        _refused(refusal)
    except DBAPIError as exc:
        typer.echo(
            "Error: the database cannot be used (is MERGE_ASSIST_DATABASE_URL right, and "
            f"`merge-assist db upgrade` done?): {type(exc.orig).__name__}",
            err=True,
        )
        raise typer.Exit(EXIT_CANNOT_RUN) from None


async def _in_unit_of_work(settings: Settings, work: UnitOfWork[T]) -> T:
    engine = create_engine(settings.effective_database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine, settings)) as session:
            return await work(session)
    finally:
        await engine.dispose()


def _refused(refusal: MergeAssistError) -> NoReturn:
    typer.echo(f"Error: {refusal.message}", err=True)
    raise typer.Exit(EXIT_REFUSED) from None
