"""``merge-assist explain PROJECT!IID``: why a merge request is not merging, in plain words."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from merge_assist.assistant.ai_summary import AiCaller
from merge_assist.assistant.render import render_text
from merge_assist.assistant.schemas import Explanation
from merge_assist.assistant.service import explain_reference
from merge_assist.kit.cli import run_unit_of_work
from merge_assist.kit.db import create_sessionmaker
from merge_assist.kit.settings import get_settings
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.secrets.providers import provider_from_settings


def explain_command(
    reference: Annotated[
        str, typer.Argument(metavar="PROJECT!IID", help="e.g. group/app!12 (GitLab's iid).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="The API's JSON instead.")] = False,
    ai: Annotated[
        bool, typer.Option("--ai", help="Ask the AI for a summary too (when set up; audited).")
    ] = False,
) -> None:
    """Why a merge request is not merging: every reason, its strikes, its batch, the failing
    jobs' log lines and what to do next (GitLab is asked as the bot when configured)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> Explanation:
        caller = None
        if ai and isinstance(session.bind, AsyncEngine):
            caller = AiCaller(
                actor_id=None,
                actor_name="cli",
                sessions=create_sessionmaker(session.bind, settings),
                secrets=lambda: provider_from_settings(settings),
            )
        factory = gitlab_client_factory(settings)
        return await explain_reference(session, factory, reference, caller)

    found = run_unit_of_work(work, settings=settings)
    typer.echo(found.model_dump_json(indent=2) if as_json else render_text(found))


def register_explain_command(app: typer.Typer) -> None:
    """Add ``explain`` to the ``merge-assist`` command."""
    app.command("explain")(explain_command)
