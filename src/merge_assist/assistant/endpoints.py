"""HTTP wiring of the assistant: ``GET /api/mrs/{id}/explanation`` and the AI settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from merge_assist.assistant import ai_service
from merge_assist.assistant.ai_summary import AiCaller
from merge_assist.assistant.schemas import (
    AssistantSettingsChanges,
    AssistantSettingsOut,
    Explanation,
)
from merge_assist.assistant.service import explain_for
from merge_assist.auth.dependencies import AdminUser, CurrentUser
from merge_assist.kit.web import AppResources, Resources, Session
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY
from merge_assist.secrets.providers import SecretProvider, provider_from_settings

router = APIRouter(prefix="/api", tags=["assistant"])

MergeRequestId = Annotated[
    int, Path(ge=1, le=2**31 - 1, description="Our MR id (not GitLab's iid).")
]


def _secrets(res: AppResources) -> SecretProvider:
    return provider_from_settings(res.settings)


@router.get("/mrs/{mr_id}/explanation")
async def explanation(
    mr_id: MergeRequestId, user: CurrentUser, session: Session, res: Resources
) -> Explanation:
    """Why the MR is not merging, in plain words: every reason, what it waits for and since
    when, its strikes, its batch and culprit, the failing jobs' log lines and what to do next.
    Whoever may see the MR may ask (404 otherwise). GitLab's part is best effort (``notes``).
    ``ai_summary``: the AI's advisory summary when an admin set one up and the project opted
    in, else why there is none (never an error)."""
    ai = AiCaller(
        actor_id=user.id,
        actor_name=user.username,
        sessions=res.sessions,
        secrets=lambda: _secrets(res),
    )
    return await explain_for(session, user, res.service(GITLAB_CLIENT_FACTORY), mr_id, ai)


@router.get("/assistant/settings")
async def assistant_settings(
    admin: AdminUser, session: Session, res: Resources
) -> AssistantSettingsOut:
    """The AI summary's settings (admins): endpoint, model, what may leave, limits, today's
    usage, and whether an API key is stored (never the key itself)."""
    return await ai_service.settings_out(session, _secrets(res))


@router.put("/assistant/settings")
async def update_assistant_settings(
    changes: AssistantSettingsChanges, admin: AdminUser, session: Session, res: Resources
) -> AssistantSettingsOut:
    """Change the AI summary's settings (admins; audited). ``api_key`` is stored in the
    secrets provider and never shown again; ``clear_api_key`` removes it; a daily limit sent
    as null means no limit."""
    secrets = _secrets(res)
    await ai_service.update_settings(session, admin, secrets, changes)
    return await ai_service.settings_out(session, secrets)
