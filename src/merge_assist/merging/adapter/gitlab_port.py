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
from merge_assist.gitlab.errors import GitLabUnavailable
from merge_assist.gitlab.git import GitCli, GitCommandError
from merge_assist.merging.adapter import perform as rest
from merge_assist.merging.adapter.git_workspace import BatchWorkspace
from merge_assist.merging.adapter.observe import ObserverCache, QueueObserver
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import ActionResult, Observations
from merge_assist.merging.engine.state import TargetQueueState

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ProjectTarget:
    """A GitLab project: its numeric id (API calls) and full path (the clone URL)."""

    id: int
    path: str


class GitLabQueuePort:
    """Observes and acts on one project's target branch as the bot (implements ``QueuePort``).

    ``client`` and ``git`` must authenticate as the bot (``bot_username``). ``workdir`` is a
    private folder of the worker; the port clones the project under
    ``workdir/<project id>/<target branch>`` the first time a batch needs git. The port keeps
    only caches: losing it (a restart) costs a few extra calls, never correctness.
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
        rebase_wait_seconds: float = 60.0,
        rebase_poll_seconds: float = 1.0,
    ) -> None:
        self.client = client
        self.git = git
        self.project = project
        self.target_branch = target_branch
        self.bot_username = bot_username
        self.config = config
        self.rebase_wait_seconds = rebase_wait_seconds
        self.rebase_poll_seconds = rebase_poll_seconds
        self.observer = QueueObserver(
            client,
            project_id=project.id,
            target_branch=target_branch,
            bot_username=bot_username,
            cache=ObserverCache(),
        )
        self.workspace = BatchWorkspace(
            git,
            workdir / str(project.id) / _UNSAFE.sub("_", target_branch),
            f"{client.web_url.rstrip('/')}/{project.path}.git",
        )

    async def observe(self, state: TargetQueueState) -> Observations:
        """See ``QueuePort.observe``; priorities 0, locks and results empty."""
        return await self.observer.observe(state)

    async def perform(self, action: act.Action) -> ActionResult | None:
        """Perform one action idempotently; ``RecordHistory`` and ``Wait`` are the runner's.

        GitLab failures raise ``GitLabError``; a git command failing for another reason than
        a conflict or a refused push (network, time-out) is raised as ``GitLabUnavailable``
        too, so the runner retries the whole step either way.
        """
        try:
            return await self._perform(action)
        except GitCommandError as error:
            raise GitLabUnavailable(str(error), operation=f"git.{action.kind}") from error

    async def _perform(self, action: act.Action) -> ActionResult | None:
        target = await self._target()
        client = self.client
        match action:
            case act.AddLabels():
                await rest.add_labels(client, target, action)
            case act.RemoveLabels():
                await rest.remove_labels(client, target, action)
            case act.PostComment():
                await rest.post_comment(client, target, action)
            case act.Unassign():
                await rest.unassign(client, target, action)
            case act.Rebase():
                return await rest.rebase(client, target, action)
            case act.BuildBatch():
                rest.check_batch_branch(target, action.branch)
                return await self.workspace.build_batch(action)
            case act.CreateBatchMR():
                return await rest.create_batch_mr(client, target, action)
            case act.RunPipeline():
                return await rest.run_pipeline(client, target, action)
            case act.MergeMR():
                return await rest.merge_mr(client, target, action)
            case act.PushTarget():
                if action.target_branch != self.target_branch:
                    raise ValueError(f"This port pushes `{self.target_branch}` only.")
                return await self.workspace.push_target(action)
            case act.CloseBatchMR():
                await rest.close_batch_mr(client, target, action)
            case act.DeleteBranch():
                await rest.delete_branch(client, target, action)
            case act.RecordHistory() | act.Wait():
                raise ValueError(f"`{action.kind}` is performed by the runner, not the port.")
        return None

    async def _target(self) -> rest.PortTarget:
        bot = await self.observer.bot()
        return rest.PortTarget(
            project_id=self.project.id,
            target_branch=self.target_branch,
            bot_id=bot.id,
            batch_branch_prefix=self.config.batch_branch_prefix,
            rebase_wait_seconds=self.rebase_wait_seconds,
            rebase_poll_seconds=self.rebase_poll_seconds,
        )
