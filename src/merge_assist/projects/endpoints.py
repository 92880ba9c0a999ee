"""``/api/projects``: onboard, list, configure, deactivate projects and grant permissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from merge_assist.auth.dependencies import AdminUser, CurrentUser
from merge_assist.kit.bus.wake import wake_after_commit
from merge_assist.kit.errors import Forbidden
from merge_assist.kit.web import Resources, Session
from merge_assist.projects import permissions, service
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY, GitLabClientFactory
from merge_assist.projects.models import ProjectConfigRow
from merge_assist.projects.onboarding_check import RECEIVED_SINCE, DeliveryWitness, check_project
from merge_assist.projects.schemas import (
    CheckOut,
    ConfigChanges,
    ConfigOut,
    OnboardingCheckOut,
    OnboardRequest,
    PermissionGrant,
    PermissionOut,
    ProjectOut,
)
from merge_assist.projects.service import Actor

router = APIRouter(prefix="/api/projects", tags=["projects"])

# Ids are 32-bit in every database we run on: a larger one is refused (422), never a 500.
ProjectId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Our project id.")]


def _factory(res: Resources) -> GitLabClientFactory:
    return res.service(GITLAB_CLIENT_FACTORY)


def _config_out(row: ProjectConfigRow) -> ConfigOut:
    return ConfigOut(
        project_id=row.project_id,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        **service.config_from_row(row).model_dump(),
    )


@router.post("", status_code=201, response_model=ProjectOut)
async def onboard_project(
    body: OnboardRequest, admin: AdminUser, session: Session, res: Resources
) -> ProjectOut:
    """Onboard a GitLab project (admin): reads it as the bot and registers our webhook."""
    project = await service.onboard(
        session, res.settings, _factory(res), Actor.of(admin), body.gitlab_project, body.changes()
    )
    return ProjectOut.model_validate(project)


@router.get("", response_model=list[ProjectOut])
async def list_projects(user: CurrentUser, session: Session) -> list[ProjectOut]:
    """The projects the caller may see."""
    return [ProjectOut.model_validate(p) for p in await service.visible_projects(session, user)]


@router.get("/{project_id}", response_model=ProjectOut)
async def get_project(project_id: ProjectId, user: CurrentUser, session: Session) -> ProjectOut:
    """One project the caller may see."""
    return ProjectOut.model_validate(await service.get_visible_project(session, user, project_id))


@router.delete("/{project_id}", response_model=ProjectOut)
async def deactivate_project(
    project_id: ProjectId, admin: AdminUser, session: Session, res: Resources
) -> ProjectOut:
    """Deactivate a project (admin): removes our webhook, keeps its history."""
    project = await service.deactivate(session, _factory(res), Actor.of(admin), project_id)
    return ProjectOut.model_validate(project)


@router.get("/{project_id}/config", response_model=ConfigOut)
async def get_config(project_id: ProjectId, user: CurrentUser, session: Session) -> ConfigOut:
    """The configuration of a project the caller may see."""
    await service.get_visible_project(session, user, project_id)
    return _config_out(await service.config_row(session, project_id))


@router.put("/{project_id}/config", response_model=ConfigOut)
async def update_config(
    project_id: ProjectId, body: ConfigChanges, user: CurrentUser, session: Session, res: Resources
) -> ConfigOut:
    """Change a project's configuration (admin, or project owner with ``can_manage`` on it)."""
    await service.get_visible_project(session, user, project_id)
    if not await service.can_manage(session, user, project_id):
        raise Forbidden(
            "Changing this project's configuration needs the admin role, or the project_owner "
            "role with the manage permission on this project."
        )
    row = await service.update_config(
        session, res.settings, _factory(res), Actor.of(user), project_id, body.changes()
    )
    # The project's worker is woken once this commits, so its next run reads the new config.
    wake_after_commit(session, res, project_id, "config")
    return _config_out(row)


@router.post("/{project_id}/check", response_model=OnboardingCheckOut)
async def check_onboarding(
    project_id: ProjectId, user: CurrentUser, session: Session, res: Resources
) -> OnboardingCheckOut:
    """Check the project's connection (admin, or project owner with ``can_manage``): bot token,
    role, branches, "pipelines must succeed", our webhook, and a test delivery from GitLab."""
    project = await service.get_visible_project(session, user, project_id)
    if not await service.can_manage(session, user, project_id):
        raise Forbidden(
            "Checking this project's connection needs the admin role, or the project_owner "
            "role with the manage permission on this project."
        )
    witness = DeliveryWitness(res.sessions, res.service(RECEIVED_SINCE))
    report = await check_project(
        session, res.settings, _factory(res), project.path_with_namespace, witness
    )
    return OnboardingCheckOut(
        project=report.project,
        bot_username=report.bot_username,
        ok=report.ok,
        checks=[CheckOut(**vars(check)) for check in report.checks],
    )


@router.get("/{project_id}/permissions", response_model=list[PermissionOut])
async def list_permissions(
    project_id: ProjectId, _admin: AdminUser, session: Session
) -> list[PermissionOut]:
    """Every user's permissions on the project (admin)."""
    rows = await permissions.list_permissions(session, project_id)
    return [
        PermissionOut(
            user_id=row.user_id,
            username=username,
            can_manage=row.can_manage,
            can_set_priority=row.can_set_priority,
        )
        for row, username in rows
    ]


@router.put("/{project_id}/permissions", response_model=list[PermissionOut])
async def set_permission(
    project_id: ProjectId, body: PermissionGrant, admin: AdminUser, session: Session
) -> list[PermissionOut]:
    """Set one user's permissions on the project (admin); answers the full list."""
    await permissions.set_permission(session, Actor.of(admin), project_id, body)
    return await list_permissions(project_id, admin, session)
