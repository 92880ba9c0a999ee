"""The plain diagnosis's next step for the bot's rejection comment (``explain_on_rejection``).

Plugged into the merge queue as ``REJECTION_ADVICE`` by the composition root. No AI is asked:
what is posted on GitLab is the plain diagnosis only. A failure, or more than
``ADVICE_SECONDS``, gives None and the comment goes out as the engine wrote it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from sqlalchemy import select

from merge_assist.assistant.explain import explain
from merge_assist.assistant.gather import gather_facts
from merge_assist.kit.web import AppResources
from merge_assist.merging.persistence.advice import RejectionAdvice
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY

log = logging.getLogger(__name__)

ADVICE_SECONDS = 30.0


def rejection_advice(res: AppResources) -> RejectionAdvice:
    """What to do next for a rejected MR, when its project asks for it."""

    async def advise(project_id: int, iid: int) -> str | None:
        try:
            return await asyncio.wait_for(_next_step(res, project_id, iid), ADVICE_SECONDS)
        except Exception:
            log.warning(
                "no advice for the rejection comment",
                exc_info=True,
                extra={"project_id": project_id, "iid": iid},
            )
            return None

    return advise


async def _next_step(res: AppResources, project_id: int, iid: int) -> str | None:
    async with res.sessions() as session:
        config = await projects.get_config(session, project_id)
        if not config.explain_on_rejection:
            return None
        mr = await session.scalar(
            select(MergeRequestRecord).where(
                MergeRequestRecord.project_id == project_id, MergeRequestRecord.iid == iid
            )
        )
        if mr is None:
            return None
        facts = await gather_facts(session, res.service(GITLAB_CLIENT_FACTORY), mr)
    # The comment goes out as the MR is rejected: its stored state is the one before.
    as_rejected = facts.mr.model_copy(update={"queue_state": "rejected"})
    return explain(dataclasses.replace(facts, mr=as_rejected)).next_step
