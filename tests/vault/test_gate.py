"""The merge queue's gate: vault check-outs among the paths of a merge request."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.db import unit_of_work
from merge_assist.projects.models import Project
from merge_assist.vault import service
from merge_assist.vault.locks import DatabaseLockStore
from merge_assist.vault.models import Vault, VaultBackend, VaultFile
from tests.vault.conftest import People


async def _file(session: AsyncSession, vault: Vault, path: str) -> VaultFile:
    file = VaultFile(
        vault_id=vault.id, path=path, current_version="a" * 40, size=1, content_sha256="b" * 64
    )
    session.add(file)
    await session.flush()
    return file


async def test_locks_for_paths_maps_repository_paths_through_the_folder(
    sessions: async_sessionmaker[AsyncSession], people: People
) -> None:
    async with unit_of_work(sessions) as session:
        project = Project(gitlab_project_id=77, path_with_namespace="acme/cnc", name="cnc")
        other = Project(gitlab_project_id=78, path_with_namespace="acme/other", name="other")
        session.add_all([project, other])
        await session.flush()
        cnc = await service.create_vault(
            session, name="cnc", backend=VaultBackend.gitlab, project_id=project.id, folder="cnc"
        )
        root = await service.create_vault(
            session, name="root", backend=VaultBackend.gitlab, project_id=project.id
        )
        elsewhere = await service.create_vault(
            session, name="else", backend=VaultBackend.gitlab, project_id=other.id, folder="cnc"
        )
        locks = DatabaseLockStore(session)
        held = await _file(session, cnc, "mill/part.mcam")
        free = await _file(session, cnc, "mill/free.mcam")
        top = await _file(session, root, "fixture.nc")
        foreign = await _file(session, elsewhere, "mill/part.mcam")
        await locks.acquire(held.id, held.path, people["alice"].id, "Editing", "a" * 40)
        await locks.acquire(top.id, top.path, people["bob"].id, "Editing", "a" * 40)
        await locks.acquire(foreign.id, foreign.path, people["bob"].id, "Editing", "a" * 40)
        assert free.id

    async with sessions() as session:
        found = await service.locks_for_paths(
            session,
            project.id,
            ["cnc/mill/part.mcam", "cnc/mill/free.mcam", "fixture.nc", "src/app.py"],
        )
        assert found == [
            service.CheckedOutPath(path="cnc/mill/part.mcam", holder="alice"),
            service.CheckedOutPath(path="fixture.nc", holder="bob"),
        ]
        assert await service.locks_for_paths(session, project.id, []) == []
        assert await service.locks_for_paths(session, 999, ["cnc/mill/part.mcam"]) == []
