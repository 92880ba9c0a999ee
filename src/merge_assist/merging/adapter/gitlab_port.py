"""``GitLabQueuePort``: the ``QueuePort`` of one (project, target branch) over the real client.

    git = GitCli(data_dir / "git-home", token=bot_token)
    async with GitLabClient(url, bot_token) as client:
        port = GitLabQueuePort(
            client,
            git,
            workdir=data_dir / "queue",
            project=ProjectTarget(id=12, path="group/app"),
            target_branch="main",
            bot_username="merge-assist-bot",
            config=engine_config,
        )
        observations = await port.observe(state)
        result = await port.perform(action)

``observe`` lives in ``adapter.observe``, the REST actions in ``adapter.perform`` and the two
git actions (``BuildBatch``, ``PushTarget``) in ``adapter.git_workspace``. How each action is
idempotent and what a step costs in GitLab calls: ``docs/merge-engine.md``, "The executor".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.git import GitCli
from merge_assist.merging.adapter.git_workspace import BatchWorkspace
from merge_assist.merging.adapter.observe import ObserverCache, QueueObserver
from merge_assist.merging.adapter.perform import GitLabActions
from merge_assist.merging.adapter.target import RebaseWait
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import Observations
from merge_assist.merging.engine.state import TargetQueueState

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ProjectTarget:
    """A GitLab project: its numeric id (API calls) and full path (the clone URL)."""

    id: int
    path: str


class GitLabQueuePort(GitLabActions):
    """Observes and acts on one project's target branch as the bot (implements ``QueuePort``).

    ``client`` and ``git`` must authenticate as the bot (``bot_username``). ``workdir`` is a
    private folder of the worker; the port clones the project under
    ``workdir/<project id>/<target branch>`` the first time a batch needs git. The port keeps
    only caches: losing it (a restart) costs a few extra calls, never correctness.
    ``perform`` is ``GitLabActions.perform`` (``adapter.perform``).
    """

    def __init__(
        self,
        client: GitLabClient,
        git: GitCli,
        *,
        workdir: Path,
        project: ProjectTarget,
        target_branch: str,
        bot_username: str,
        config: EngineConfig,
        rebase_wait: RebaseWait = RebaseWait(),
    ) -> None:
        observer = QueueObserver(
            client,
            project_id=project.id,
            target_branch=target_branch,
            bot_username=bot_username,
            cache=ObserverCache(),
        )
        workspace = BatchWorkspace(
            git,
            workdir / str(project.id) / _UNSAFE.sub("_", target_branch),
            f"{client.web_url.rstrip('/')}/{project.path}.git",
        )
        super().__init__(
            client,
            observer,
            workspace,
            project_id=project.id,
            target_branch=target_branch,
            batch_branch_prefix=config.batch_branch_prefix,
            train_branch_prefix=config.train_branch_prefix,
            rebase_wait=rebase_wait,
        )
        self.git = git
        self.project = project
        self.bot_username = bot_username
        self.config = config

    async def observe(self, state: TargetQueueState) -> Observations:
        """See ``QueuePort.observe``; priorities 0, locks and results empty."""
        return await self.observer.observe(state)
