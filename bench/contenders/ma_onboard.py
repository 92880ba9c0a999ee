"""``python -m bench.contenders.ma_onboard PROJECT CONFIG_JSON``: onboard a project in the
product's database (the environment says which) with a configuration, as ``onboard_demo_project``
does. The CLI's ``projects add`` cannot set the batch size or the polling interval."""

from __future__ import annotations

import asyncio
import json
import sys

from merge_assist.kit.db import create_engine, create_sessionmaker, unit_of_work
from merge_assist.kit.settings import get_settings
from merge_assist.projects import service
from merge_assist.projects.gitlab_access import gitlab_client_factory


async def onboard(project: str, config: dict[str, object]) -> str:
    settings = get_settings()
    engine = create_engine(settings.effective_database_url)
    try:
        async with unit_of_work(create_sessionmaker(engine, settings)) as session:
            onboarded = await service.onboard(
                session,
                settings,
                gitlab_client_factory(settings),
                service.Actor(id=None, name="bench"),
                project,
                config,
            )
            return f"onboarded {onboarded.path_with_namespace} with {config}"
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(asyncio.run(onboard(sys.argv[1], json.loads(sys.argv[2]))))
