"""Sandbox helpers for the port's tests: build a port, read MRs back, check green main strictly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.git import GitCli
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.merging.adapter.gitlab_port import GitLabQueuePort, ProjectTarget
from merge_assist.merging.adapter.target import RebaseWait
from merge_assist.merging.engine.config import EngineConfig
from tests.merging.adapter.driver import BOT, PROJECT, TARGET


@asynccontextmanager
async def open_port(
    sandbox: RunningSandbox, workdir: Path, config: EngineConfig
) -> AsyncIterator[GitLabQueuePort]:
    """A port for ``PROJECT``'s ``main`` as the bot, with a private git home under ``workdir``."""
    token = sandbox.token_for(BOT)
    async with GitLabClient(
        sandbox.url, token, retry=RetryPolicy(max_retries=2, backoff=0.01)
    ) as client:
        project = await client.get_project(PROJECT)
        git = GitCli(workdir / "git-home", token=token)
        yield GitLabQueuePort(
            client,
            git,
            workdir=workdir / "queue",
            project=ProjectTarget(id=project.id, path=PROJECT),
            target_branch=TARGET,
            bot_username=BOT,
            config=config,
            rebase_wait=RebaseWait(max_seconds=20.0, poll_seconds=0.05),
        )


def project_of(sandbox: RunningSandbox) -> Any:
    project = sandbox.sandbox.store.project_by_ref(PROJECT)
    assert project is not None
    return project


def strict_green_main(sandbox: RunningSandbox) -> list[str]:
    """Tips of ``main`` whose tree no pipeline on another ref had passed (should be empty).

    The sandbox's own record counts a tree green if *any* pipeline passed on it, including
    the pipeline ``main`` runs after moving; this check only accepts trees tested elsewhere
    first, i.e. before we landed them.
    """
    repo = sandbox.sandbox.repo(project_of(sandbox))
    report = sandbox.green_main()
    assert report["green"], report
    tested = {
        repo.tree_id(p["sha"])
        for p in sandbox.pipelines()
        if p["status"] == "success" and p["ref"] != TARGET
    }
    return [row["sha"] for row in target_tips(sandbox) if row["tree_id"] not in tested]


def target_tips(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    """Every move of ``main`` (the scenario's seeding is not recorded)."""
    report = sandbox.green_main()
    tips = [row for project in report["projects"] for row in project["tips"]]
    return [row for row in tips if row["branch"] == TARGET]
