"""``merge-assist explain PROJECT!IID``: why a merge request is not merging, in plain words."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.assistant.render import render_text
from merge_assist.assistant.schemas import Explanation
from merge_assist.assistant.service import explain_reference
from merge_assist.kit.cli import run_unit_of_work
from merge_assist.kit.settings import get_settings
from merge_assist.projects.gitlab_access import gitlab_client_factory


def explain_command(
    reference: Annotated[
        str, typer.Argument(metavar="PROJECT!IID", help="e.g. group/app!12 (GitLab's iid).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON instead.")] = False,
) -> None:
    """Why a merge request is not merging: every reason, its strikes, its batch, the failing
    jobs' log lines and what to do next (GitLab is asked as the bot when configured)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> Explanation:
        return await explain_reference(session, gitlab_client_factory(settings), reference)

    found = run_unit_of_work(work, settings=settings)
    typer.echo(found.model_dump_json(indent=2) if as_json else render_text(found))


def register_explain_command(app: typer.Typer) -> None:
    """Add ``explain`` to the ``merge-assist`` command."""
    app.command("explain")(explain_command)
