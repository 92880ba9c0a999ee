"""The rejection comment's next step (``explain_on_rejection``), as the runner asks for it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.db import unit_of_work
from merge_assist.kit.web import AppResources
from merge_assist.merging.engine.actions import PostComment, Unassign
from merge_assist.merging.engine.comments import render, with_marker
from merge_assist.merging.persistence.advice import REJECTION_ADVICE, advised
from merge_assist.projects.models import ProjectConfigRow
from tests.merging.api.queue_rows import add_mr, add_project

NEXT = "Fix what the failing jobs report and push, then assign the bot again to queue it anew."


def _comment(template: str, iid: int = 7) -> PostComment:
    key = f"{iid}:abc:{template}"
    body = with_marker(render(template, {"max_attempts": "1", "reasons": "- x"}), key)
    return PostComment(iid=iid, template=template, params=(), comment_key=key, body=body)


async def _project(sessions: async_sessionmaker[AsyncSession], *, on: bool) -> int:
    project = await add_project(sessions)
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(ProjectConfigRow)
            .where(ProjectConfigRow.project_id == project)
            .values(explain_on_rejection=on)
        )
    await add_mr(sessions, project, 7, state="not_ready", reasons=["pipeline #3 failed for abc"])
    return project


async def test_a_project_that_asks_gets_the_next_step_in_its_rejection_comment(
    app: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project = await _project(sessions, on=True)
    # GitLab is not configured here: the stored reasons still give the next step.
    assert await res.service(REJECTION_ADVICE)(project, 7) == NEXT
    action = await advised(res, project, _comment("rejected"))
    assert isinstance(action, PostComment)
    assert f"**What to do next:** {NEXT}" in action.body
    assert action.comment_key == "7:abc:rejected"  # the marker a replay looks for
    assert action.body.endswith("<!-- merge-assist:7:abc:rejected -->")
    # Only the rejection comment; other actions and an MR it does not know go unchanged.
    not_ready = _comment("not_ready")
    assert await advised(res, project, not_ready) == not_ready
    assert await advised(res, project, Unassign(iid=7)) == Unassign(iid=7)
    assert await res.service(REJECTION_ADVICE)(project, 99) is None


async def test_by_default_the_rejection_comment_stays_as_the_engine_wrote_it(
    app: object, sessions: async_sessionmaker[AsyncSession]
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project = await _project(sessions, on=False)
    rejected = _comment("rejected")
    assert await advised(res, project, rejected) == rejected
    assert await res.service(REJECTION_ADVICE)(123456, 7) is None  # no such project: no advice
