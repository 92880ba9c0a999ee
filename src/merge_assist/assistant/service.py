"""Explaining an MR to whoever may see it (the API), or to an operator by reference (the CLI)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.assistant.ai_summary import AiCaller, summarise
from merge_assist.assistant.explain import explain
from merge_assist.assistant.gather import gather_facts
from merge_assist.assistant.schemas import Explanation
from merge_assist.auth.principal import Principal
from merge_assist.kit.errors import NotFound, Unprocessable
from merge_assist.merging.api.listing import visible_merge_request
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import GitLabClientFactory

_REFERENCE = re.compile(r"^(?P<path>[^\s!]+)!(?P<iid>[0-9]{1,9})$")


async def explain_for(
    session: AsyncSession,
    principal: Principal,
    client_factory: GitLabClientFactory,
    mr_id: int,
    ai: AiCaller | None = None,
) -> Explanation:
    """The explanation of MR ``mr_id`` if the caller may see it (merging's rule); 404 else.
    With ``ai``, the AI's summary too (or why there is none)."""
    mr = await visible_merge_request(session, principal, mr_id)
    return await _explained(session, client_factory, mr, ai)


async def _explained(
    session: AsyncSession,
    client_factory: GitLabClientFactory,
    mr: MergeRequestRecord,
    ai: AiCaller | None,
) -> Explanation:
    found = explain(await gather_facts(session, client_factory, mr))
    if ai is None:
        return found
    config = await projects.get_config(session, mr.project_id)
    summary = await summarise(session, ai, found, opted_in=config.ai_debug_enabled)
    return found.model_copy(update={"ai_summary": summary})


def parse_reference(reference: str) -> tuple[str, int]:
    """``group/app!12`` as ``("group/app", 12)``; a sentence (422) for anything else."""
    match = _REFERENCE.match(reference.strip())
    if match is None:
        raise Unprocessable(
            f"{reference!r} is not a merge request reference; write PROJECT!IID, e.g. group/app!12."
        )
    return match["path"], int(match["iid"])


async def explain_reference(
    session: AsyncSession,
    client_factory: GitLabClientFactory,
    reference: str,
    ai: AiCaller | None = None,
) -> Explanation:
    """The explanation of ``group/app!12`` (for operators: no visibility rule); with ``ai``,
    the AI's summary too."""
    path, iid = parse_reference(reference)
    found = [
        project
        for project in await projects.all_projects(session, include_inactive=True)
        if project.path_with_namespace.lower() == path.lower()
    ]
    if not found:
        raise NotFound(f"No onboarded project is called {path!r}.")
    mr = await session.scalar(
        select(MergeRequestRecord).where(
            MergeRequestRecord.project_id == found[0].id, MergeRequestRecord.iid == iid
        )
    )
    if mr is None:
        raise NotFound(f"The merge queue does not know {path}!{iid} (the bot was never on it).")
    return await _explained(session, client_factory, mr, ai)
