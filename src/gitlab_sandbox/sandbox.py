"""The running sandbox: configuration, the store, repositories, clock and background work.

One ``Sandbox`` is one emulated GitLab instance. The API routers, the git access layer and the
admin endpoints all act on it; the behaviour (pushes, merges, pipelines) lives in
``gitlab_sandbox.services``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import shutil
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gitlab_sandbox.accounting import CallAccounting
from gitlab_sandbox.ci import CiRules, CiSimulator, PipelineRun
from gitlab_sandbox.clock import SandboxClock
from gitlab_sandbox.faults import FaultInjector
from gitlab_sandbox.git.repo import BareRepo
from gitlab_sandbox.greenmain import GreenMainRecord
from gitlab_sandbox.hooks.dispatcher import WebhookDispatcher, request_scope
from gitlab_sandbox.store import Project, Store, hash_token

log = logging.getLogger("gitlab_sandbox")

GITLAB_VERSION = "17.5.0-ee"
GITLAB_REVISION = "sandbox"


@dataclass
class SandboxConfig:
    """How one sandbox runs."""

    data_dir: Path
    external_url: str = "http://127.0.0.1"
    seed: int = 0
    clock_speed: float = 1.0
    admin_token_sha256: str | None = None
    ci_rules: CiRules = field(default_factory=CiRules)
    # Simulated seconds an MR reads "checking" after a push or a target move.
    mergeability_check_seconds: float = 0.0
    # Simulated seconds a rebase takes before it lands.
    rebase_seconds: float = 0.0
    # GitLab's asynchrony (issue 14, item 2; on by default, as on GitLab): transient statuses,
    # lists that do not recheck, an MR that follows a push a moment later. Off: every GET
    # recomputes and a push's reactions run before the push returns (for unit tests).
    asynchronous: bool = True


class Sandbox:
    """One emulated GitLab: state, repositories and the tasks that run behind the API."""

    def __init__(self, config: SandboxConfig, *, clock: SandboxClock | None = None) -> None:
        self.config = config
        self.clock = clock or SandboxClock(config.clock_speed)
        self.store = Store()
        self._repos: dict[int, BareRepo] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ci_task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ci = CiSimulator(
            config.ci_rules, self.clock, config.seed, self.read_tree, self._pipeline_changed
        )
        self.webhooks = WebhookDispatcher(
            instance_url=self.base_url, seed=config.seed, clock=self.clock
        )
        self.faults = FaultInjector(seed=config.seed)
        self.accounting = CallAccounting()
        self.green_main = GreenMainRecord(self.clock)
        # Services subscribe here to pipeline status changes (MR updates, webhooks, auto-merge).
        self.pipeline_listeners: list[Callable[[PipelineRun], Awaitable[None]]] = []

    # configuration --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.config.external_url.rstrip("/")

    @property
    def repos_dir(self) -> Path:
        return self.config.data_dir / "repos"

    def check_admin_token(self, value: str | None) -> bool:
        """Whether ``value`` is the sandbox admin token (constant-time)."""
        expected = self.config.admin_token_sha256
        if not value or expected is None:
            return False
        return hmac.compare_digest(hash_token(value), expected)

    def rebase_seconds(self) -> float:
        """Simulated seconds a rebase takes (a fault can make rebases slow)."""
        return self.config.rebase_seconds + self.faults.slow_rebase.seconds

    def checking_seconds(self) -> float:
        """Simulated seconds an MR reads ``checking`` after a change (a fault can lengthen it)."""
        return self.config.mergeability_check_seconds + self.faults.long_checking.seconds

    def token_label(self, raw: str) -> str | None:
        """How call accounting names a token: its id, name and owner (never its value)."""
        token = self.store.token_by_value(raw)
        if token is None:
            return None
        user = self.store.users.get(token.user_id)
        return f"pat:{token.id} {token.name} ({user.username if user else '?'})"

    def now(self) -> datetime:
        """The simulated current time."""
        return self.clock.now()

    # repositories ---------------------------------------------------------------------------
    def repo_path(self, project: Project) -> Path:
        return self.repos_dir / project.namespace / f"{project.path}.git"

    def repo(self, project: Project) -> BareRepo:
        """The project's bare repository (opened on first use)."""
        repo = self._repos.get(project.id)
        if repo is None:
            repo = self._repos[project.id] = BareRepo(self.repo_path(project), now=self.clock.now)
        return repo

    def init_repo(self, project: Project) -> BareRepo:
        """Create the project's empty bare repository."""
        repo = BareRepo.init(self.repo_path(project), project.default_branch, now=self.clock.now)
        self._repos[project.id] = repo
        return repo

    def read_tree(self, project_key: str, sha: str) -> dict[str, bytes]:
        """Every file of a commit's tree (what CI judges), by project path and sha."""
        project = self.store.project_by_ref(project_key)
        if project is None:
            raise LookupError(f"No project {project_key}.")
        repo = self.repo(project)
        files: dict[str, bytes] = {}
        for entry in repo.list_tree(sha, recursive=True):
            if entry.type == "blob":
                files[entry.path] = repo.read_file(sha, entry.path) or b""
        return files

    async def _pipeline_changed(self, run: PipelineRun) -> None:
        # A CI status change is a job of its own: the hooks it triggers share one event UUID.
        with request_scope():
            for listener in self.pipeline_listeners:
                await listener(run)

    # background work ------------------------------------------------------------------------
    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run ``coroutine`` in the background; failures are logged, never lost silently."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def idle(self, limit: float = 10.0) -> None:
        """Wait until no background task (rebase, merge, reaction) is running."""
        deadline = asyncio.get_running_loop().time() + limit
        while self._tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=0.05)

    async def start(self) -> None:
        """Start the background work (the CI simulator's loop)."""
        self.loop = asyncio.get_running_loop()
        self._ci_task = self.loop.create_task(self.ci.run(), name="ci")

    async def reset(self) -> None:
        """Forget everything: records, repositories, pipelines, deliveries, counters, faults."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.ci.reset()
        self.webhooks.reset()
        self.faults.reset()
        self.accounting.reset()
        self.green_main.reset()
        self.store = Store()
        for repo in self._repos.values():
            repo.close()
        self._repos.clear()
        await asyncio.to_thread(shutil.rmtree, self.repos_dir, True)

    async def close(self) -> None:
        """Stop CI, cancel background tasks and close the repositories' reader processes."""
        if self._ci_task is not None:
            await self.ci.stop()
            await self._ci_task
            self._ci_task = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.webhooks.aclose()
        for repo in self._repos.values():
            repo.close()
        self._repos.clear()
