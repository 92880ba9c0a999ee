"""``merge-assist db``: migrations."""

from __future__ import annotations

import typer

from merge_assist.kit import migrate
from merge_assist.kit.settings import get_settings

db_app = typer.Typer(no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Upgrade the database to the latest (or given) revision."""
    url = get_settings().effective_database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, or 'base'.")) -> None:
    """Downgrade the database to an earlier revision."""
    migrate.downgrade(get_settings().effective_database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("current")
def current() -> None:
    """Show the database's current revision."""
    migrate.current(get_settings().effective_database_url)
