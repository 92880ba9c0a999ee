"""HTTP wiring of the assistant: ``GET /api/mrs/{id}/explanation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from merge_assist.assistant.schemas import Explanation
from merge_assist.assistant.service import explain_for
from merge_assist.auth.dependencies import CurrentUser
from merge_assist.kit.web import Resources, Session
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY

router = APIRouter(prefix="/api", tags=["assistant"])

MergeRequestId = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="Our MR id (not GitLab's iid).")
]


@router.get("/mrs/{mr_id}/explanation")
async def explanation(
    mr_id: MergeRequestId, user: CurrentUser, session: Session, res: Resources
) -> Explanation:
    """Why the MR is not merging, in plain words: every reason, what it waits for and since
    when, its strikes, its batch and culprit, the failing jobs' log lines and what to do next.
    Whoever may see the MR may ask (404 otherwise). GitLab's part is best effort (``notes``)."""
    return await explain_for(session, user, res.service(GITLAB_CLIENT_FACTORY), mr_id)
