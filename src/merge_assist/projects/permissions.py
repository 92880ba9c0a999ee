"""Per-project permissions of users: who may manage a project or set priorities (admin only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit.service import record
from merge_assist.auth import accounts
from merge_assist.auth.models import ProjectPermission
from merge_assist.projects import repository
from merge_assist.projects.schemas import PermissionGrant
from merge_assist.projects.service import Actor, get_project


async def list_permissions(
    session: AsyncSession, project_id: int
) -> Sequence[tuple[ProjectPermission, str]]:
    """Every user's permissions on the project, with usernames."""
    await get_project(session, project_id)
    return await repository.permissions_of_project(session, project_id)


async def set_permission(
    session: AsyncSession, actor: Actor, project_id: int, grant: PermissionGrant
) -> None:
    """Set one user's ``can_manage``/``can_set_priority`` on the project (both false: remove)."""
    project = await get_project(session, project_id)
    user = await accounts.get_user(session, grant.user_id)
    row = await repository.permission(session, project.id, user.id)
    before = {"can_manage": False, "can_set_priority": False}
    if row is not None:
        before = {"can_manage": row.can_manage, "can_set_priority": row.can_set_priority}
    if not grant.can_manage and not grant.can_set_priority:
        if row is not None:
            await session.delete(row)
    else:
        if row is None:
            row = ProjectPermission(user_id=user.id, project_id=project.id)
            session.add(row)
        row.can_manage = grant.can_manage
        row.can_set_priority = grant.can_set_priority
    await session.flush()
    await record(
        session,
        actor_id=actor.id,
        actor_name=actor.name,
        action="project.permission.set",
        success=True,
        target_type="project",
        target_id=project.id,
        details={
            "user_id": user.id,
            "username": user.username,
            "before": before,
            "after": {"can_manage": grant.can_manage, "can_set_priority": grant.can_set_priority},
        },
    )
