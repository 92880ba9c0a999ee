"""The one place the worker meets the merge engine: the production ``ProjectRun``.

``run_merge_queue`` is the run the workers call for a project they own; ``close_merge_queue``
closes this process's GitLab connection when the worker stops. Each process keeps one
``GitLabQueueRuntime`` under ``RUNTIME``: the bot's GitLab client, one git wrapper, and a
``GitLabQueuePort`` per (project, target branch), kept while the process lives. It resolves
the bot's username once, builds ports on demand and hands them to ``runner.run_project``.
"""

from __future__ import annotations

import asyncio

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.git import GitCli
from merge_assist.kit.web import AppResources, ServiceKey
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort, ProjectTarget
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.port import QueuePort
from merge_assist.merging.persistence.runner import RunOutcome, StillOwner, run_project
from merge_assist.projects.gitlab_access import BOT_TOKEN_SECRET, gitlab_client_factory
from merge_assist.projects.models import Project
from merge_assist.secrets.providers import provider_from_settings

RUNTIME: ServiceKey[GitLabQueueRuntime] = ServiceKey("merge queue's GitLab runtime")
"""This process's runtime, made by its first run."""


async def run_merge_queue(
    res: AppResources, project_id: int, still_owner: StillOwner
) -> RunOutcome:
    """Run the merge engine for one project until its queues wait (``runner.run_project``)."""
    runtime = res.find(RUNTIME)
    if runtime is None:
        runtime = GitLabQueueRuntime(res)
        res.provide(RUNTIME, runtime)
    return await runtime.run(res, project_id, still_owner)


async def close_merge_queue(res: AppResources) -> None:
    """Close this process's GitLab connection of the merge queue, if it opened one."""
    runtime = res.withdraw(RUNTIME)
    if runtime is not None:
        await runtime.close()


class GitLabQueueRuntime:
    """The bot's GitLab connection for one worker process (close it when the worker stops)."""

    def __init__(self, res: AppResources) -> None:
        self._res = res
        self._client: GitLabClient | None = None
        self._git: GitCli | None = None
        self._bot_username: str | None = None
        self._ports: dict[tuple[int, str], tuple[EngineConfig, GitLabQueuePort]] = {}
        self._lock = asyncio.Lock()

    async def _connect(self) -> tuple[GitLabClient, GitCli, str]:
        async with self._lock:
            if self._client is None or self._git is None or self._bot_username is None:
                settings = self._res.settings
                client = gitlab_client_factory(settings)()
                try:
                    bot = await client.current_user()
                except BaseException:
                    await client.aclose()
                    raise
                token = provider_from_settings(settings).get(BOT_TOKEN_SECRET) or ""
                self._git = GitCli(settings.data_dir / "git-home", token=token)
                self._client, self._bot_username = client, bot.username
            return self._client, self._git, self._bot_username

    async def run(self, res: AppResources, project_id: int, still_owner: StillOwner) -> RunOutcome:
        """Run one project's queues until they wait (see ``runner.run_project``)."""
        client, git, bot = await self._connect()

        def port_for(project: Project, target_branch: str, config: EngineConfig) -> QueuePort:
            key = (project.id, target_branch)
            known = self._ports.get(key)
            if known is not None and known[0] == config:
                return known[1]
            target = ProjectTarget(id=project.gitlab_project_id, path=project.path_with_namespace)
            port = GitLabQueuePort(
                client,
                git,
                workdir=res.settings.data_dir / "queue",
                project=target,
                target_branch=target_branch,
                bot_username=bot,
                config=config,
            )
            self._ports[key] = (config, port)
            return port

        return await run_project(res, project_id, port_for=port_for, still_owner=still_owner)

    def forget(self, project_id: int) -> None:
        """Drop the ports of a project this worker no longer owns (their caches go stale)."""
        for key in [k for k in self._ports if k[0] == project_id]:
            del self._ports[key]

    async def close(self) -> None:
        """Close the GitLab client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
