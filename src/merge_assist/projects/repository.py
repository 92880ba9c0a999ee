"""Queries of projects, their configuration and their per-user permissions (no rules here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.models import ProjectPermission, Role, User, UserRole
from merge_assist.projects.models import Project, ProjectConfigRow


async def project_by_id(session: AsyncSession, project_id: int) -> Project | None:
    """The project with our id ``project_id``."""
    return await session.get(Project, project_id)


async def project_by_gitlab_id(session: AsyncSession, gitlab_project_id: int) -> Project | None:
    """The project onboarded for GitLab's project id."""
    found = await session.execute(
        select(Project).where(Project.gitlab_project_id == gitlab_project_id)
    )
    return found.scalar_one_or_none()


async def list_projects(
    session: AsyncSession, *, include_inactive: bool, only_for_user: int | None = None
) -> Sequence[Project]:
    """Projects ordered by path; ``only_for_user`` keeps those the user has a permission row on."""
    query = select(Project).order_by(Project.path_with_namespace, Project.id)
    if not include_inactive:
        query = query.where(Project.is_active.is_(True))
    if only_for_user is not None:
        granted = select(ProjectPermission.project_id).where(
            ProjectPermission.user_id == only_for_user,
            or_(
                ProjectPermission.can_manage.is_(True),
                ProjectPermission.can_set_priority.is_(True),
            ),
        )
        query = query.where(Project.id.in_(granted))
    return (await session.execute(query)).scalars().all()


async def config_row(session: AsyncSession, project_id: int) -> ProjectConfigRow | None:
    """The configuration row of a project."""
    return await session.get(ProjectConfigRow, project_id)


async def permission(
    session: AsyncSession, project_id: int, user_id: int
) -> ProjectPermission | None:
    """The permission row of one user on one project."""
    found = await session.execute(
        select(ProjectPermission).where(
            ProjectPermission.project_id == project_id, ProjectPermission.user_id == user_id
        )
    )
    return found.scalar_one_or_none()


async def permissions_of_project(
    session: AsyncSession, project_id: int
) -> Sequence[tuple[ProjectPermission, str]]:
    """Every permission row of a project with the holder's username, by username."""
    found = await session.execute(
        select(ProjectPermission, User.username)
        .join(User, User.id == ProjectPermission.user_id)
        .where(ProjectPermission.project_id == project_id)
        .order_by(User.username)
    )
    return [(row, username) for row, username in found.all()]


async def viewer_ids(session: AsyncSession, project_id: int, *, active: bool) -> list[int]:
    """Active users who may see the project: admins; for an active project also every holder
    of a global role and every user with a permission row on it."""
    admins = select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
    admins = admins.where(Role.name == "admin")
    if active:
        granted = select(ProjectPermission.user_id).where(
            ProjectPermission.project_id == project_id
        )
        audience = or_(User.id.in_(select(UserRole.user_id)), User.id.in_(granted))
    else:
        audience = User.id.in_(admins)
    found = await session.execute(
        select(User.id).where(User.is_active.is_(True), audience).order_by(User.id)
    )
    return list(found.scalars())
