"""Projects in the database for ingest and worker tests (no GitLab needed)."""

from __future__ import annotations

import itertools

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings
from merge_assist.projects.config import DEFAULT_LABELS
from merge_assist.projects.models import Project, ProjectConfigRow
from merge_assist.projects.service import seal_webhook_secret

_gitlab_ids = itertools.count(1000)


async def make_project(
    sessions: async_sessionmaker[AsyncSession],
    *,
    settings: Settings | None = None,
    webhook_secret: str | None = None,
    webhook_enabled: bool = True,
    polling_interval_seconds: int = 300,
    active: bool = True,
    gitlab_project_id: int | None = None,
) -> Project:
    """An onboarded project with a configuration (and a sealed webhook secret if given)."""
    gitlab_id = gitlab_project_id or next(_gitlab_ids)
    async with unit_of_work(sessions) as session:
        project = Project(
            gitlab_project_id=gitlab_id,
            path_with_namespace=f"acme/project-{gitlab_id}",
            name=f"project-{gitlab_id}",
            default_branch="main",
            is_active=active,
        )
        if webhook_secret is not None:
            assert settings is not None
            project.webhook_secret_encrypted = seal_webhook_secret(
                settings, gitlab_id, webhook_secret
            )
        session.add(project)
        await session.flush()
        session.add(
            ProjectConfigRow(
                project_id=project.id,
                target_branches=["main"],
                strategy="single",
                batch_size=5,
                train_depth=3,
                parallel_tests=4,
                polling_interval_seconds=polling_interval_seconds,
                labels=dict(DEFAULT_LABELS),
                webhook_enabled=webhook_enabled,
                max_rejections=3,
                landing="merge_api",
                ai_debug_enabled=False,
            )
        )
    return project
