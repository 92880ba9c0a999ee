"""Which projects need a worker, and how often they are reconciled at the latest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.errors import NotFound
from merge_assist.projects import service as projects
from merge_assist.projects.config import ProjectConfig

DEFAULT_POLLING_SECONDS = ProjectConfig.model_fields["polling_interval_seconds"].default


async def active_projects(session: AsyncSession) -> dict[int, int]:
    """Active project ids with their polling interval in seconds, by id."""
    found: dict[int, int] = {}
    for project in await projects.all_projects(session, include_inactive=False):
        try:
            config = await projects.get_config(session, project.id)
            found[project.id] = config.polling_interval_seconds
        except NotFound:
            found[project.id] = int(DEFAULT_POLLING_SECONDS)
    return dict(sorted(found.items()))
