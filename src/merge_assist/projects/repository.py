"""Queries of projects, their configuration and their per-user permissions (no rules here)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.models import ProjectPermission, Role, User, UserRole
from merge_assist.auth.roles import RoleName
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


async def audience_ids(session: AsyncSession, project_id: int, *, active: bool) -> set[int]:
    """Active users who may see the project: admins; for an active project also every user
    holding a global role and every user with a permission row on it."""
    with_role = select(UserRole.user_id).join(Role, Role.id == UserRole.role_id)
    if not active:
        with_role = with_role.where(Role.name == RoleName.admin.value)
    seers = select(User.id).where(User.is_active.is_(True), User.id.in_(with_role))
    found = set((await session.execute(seers)).scalars().all())
    if active:
        granted = (
            select(User.id)
            .join(ProjectPermission, ProjectPermission.user_id == User.id)
            .where(User.is_active.is_(True), ProjectPermission.project_id == project_id)
        )
        found.update((await session.execute(granted)).scalars().all())
    return found


async def log_reader_ids(session: AsyncSession, project_id: int, *, active: bool) -> set[int]:
    """Active users who may read the project's queue log: admins; for an active project also
    ``project_owner`` users holding ``can_manage`` on it."""
    admins = (
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.name == RoleName.admin.value)
    )
    found = set(
        (
            await session.execute(
                select(User.id).where(User.is_active.is_(True), User.id.in_(admins))
            )
        )
        .scalars()
        .all()
    )
    if active:
        owners = (
            select(UserRole.user_id)
            .join(Role, Role.id == UserRole.role_id)
            .where(Role.name == RoleName.project_owner.value)
        )
        managers = (
            select(User.id)
            .join(ProjectPermission, ProjectPermission.user_id == User.id)
            .where(
                User.is_active.is_(True),
                User.id.in_(owners),
                ProjectPermission.project_id == project_id,
                ProjectPermission.can_manage.is_(True),
            )
        )
        found.update((await session.execute(managers)).scalars().all())
    return found


async def managed_project_ids(session: AsyncSession, user_id: int) -> set[int]:
    """The active projects on which the user holds ``can_manage`` (the role is checked by the
    caller)."""
    found = await session.execute(
        select(ProjectPermission.project_id)
        .join(Project, Project.id == ProjectPermission.project_id)
        .where(
            ProjectPermission.user_id == user_id,
            ProjectPermission.can_manage.is_(True),
            Project.is_active.is_(True),
        )
    )
    return set(found.scalars().all())
