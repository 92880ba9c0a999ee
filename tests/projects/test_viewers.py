"""Who may see a project: the audience of its live events."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth.models import ProjectPermission, User
from merge_assist.kit.db import unit_of_work
from merge_assist.projects import service
from merge_assist.projects.models import Project
from tests.conftest import MakeAccount


async def test_viewers_follow_the_visibility_rules(
    sessions: async_sessionmaker[AsyncSession], make_account: MakeAccount
) -> None:
    await make_account("boss", "admin")
    await make_account("reader", "viewer")
    await make_account("retired", "viewer")
    async with unit_of_work(sessions) as session:
        project = Project(gitlab_project_id=77, path_with_namespace="g/p", name="p")
        session.add(project)
        granted = User(username="granted", display_name="Granted")
        stranger = User(username="stranger", display_name="Stranger")
        session.add_all([granted, stranger])
        await session.flush()
        session.add(ProjectPermission(user_id=granted.id, project_id=project.id))
        await session.execute(
            update(User).where(User.username == "retired").values(is_active=False)
        )
    async with sessions() as session:
        ids = {u.username: u.id for u in (await session.execute(select(User))).scalars()}
        project = await service.get_project(session, project.id)
        active = await service.audience(session, project)
        project.is_active = False
        inactive = await service.audience(session, project)
    assert active == {ids["boss"], ids["reader"], ids["granted"]}
    assert inactive == {ids["boss"]}
