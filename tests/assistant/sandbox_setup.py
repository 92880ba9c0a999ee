"""A project on the sandbox with one MR per reason an MR does not merge, onboarded, and the
queue's rows for them as the runner writes them (the diagnosis reads both)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.inputs import MergeRequestQuery
from merge_assist.gitlab.models import CommitAction
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Environment, Settings
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import gitlab_client_factory
from tests.merging.api.queue_rows import add, add_mr, at, batch, history

PROJECT = "acme/explain"
BOT = "merge-bot"
FAIL_MARKER = "sandbox-ci: fail"
BATCH_BRANCH = "merge-assist/batch-6"
DRAFT, DISCUSSIONS, APPROVALS, BROKEN, CONFLICT, CULPRIT, LOCKED = range(1, 8)
LOCK_REASON = "`cnc/part.mcam` is checked out in the vault by @bob"


def _mr(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "source_branch": f"topic-{n}",
        "title": f"Change {n}",
        "author": "alice",
        "assignees": [BOT],
        "files": {f"src/mr{n}.txt": f"change {n}\n", **extra.pop("files", {})},
        **extra,
    }


SCENARIO: dict[str, Any] = {
    "seed": 11,
    "clock_speed": 60,
    "ci": {
        "duration_seconds": [10, 20],
        "runner_capacity": 20,
        "flake_rate": 0.0,
        "fail_marker": FAIL_MARKER,
    },
    "users": [
        {"username": "root", "admin": True},
        {"username": BOT, "name": "Merge Bot", "bot": True},
        {"username": "alice", "name": "Alice"},
    ],
    "projects": [
        {
            "path": PROJECT,
            "owner": "root",
            "members": {BOT: "maintainer", "alice": "developer"},
            "settings": {
                "approvals_before_merge": 1,
                "only_allow_merge_if_all_discussions_are_resolved": True,
            },
            "files": {"README.md": "# explain\n", "shared.txt": "original\n"},
            "branches": {BATCH_BRANCH: {"files": {"src/batch.txt": f"{FAIL_MARKER}\n"}}},
            "merge_requests": [
                _mr(DRAFT, draft=True),
                _mr(DISCUSSIONS),
                _mr(APPROVALS),
                _mr(BROKEN, files={"src/broken.txt": f"{FAIL_MARKER}\n"}),
                _mr(CONFLICT, files={"shared.txt": "edited by the MR\n"}),
                _mr(CULPRIT),
                _mr(LOCKED),
            ],
        }
    ],
}


def sandbox_settings(database_url: str, tmp_path: Path, sandbox: RunningSandbox) -> Settings:
    """Settings reaching the sandbox (the bot's token comes from the environment)."""
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=0,
        _env_file=None,  # type: ignore[call-arg]
    )


async def shape_gitlab(sandbox: RunningSandbox) -> int:
    """A blocking thread on MR 2, ``main`` moved under MR 5, every pipeline finished; the
    failed pipeline of the batch branch."""
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        async with httpx.AsyncClient(base_url=sandbox.api_url) as raw:
            answer = await raw.post(
                f"/projects/{PROJECT.replace('/', '%2F')}/merge_requests/{DISCUSSIONS}/discussions",
                headers={"PRIVATE-TOKEN": sandbox.token_for("root")},
                json={"body": "Please split this function first."},
            )
            answer.raise_for_status()
        await root.create_commit(
            PROJECT,
            "main",
            "Change shared",
            [CommitAction(action="update", file_path="shared.txt", content="edited on main\n")],
        )
        sandbox.catch_up()  # GitLab's reactions to the push on main
        sandbox.wait_for_pipelines()
        # GitLab checks an MR's mergeability when someone asks (a GET, or a list with
        # ``with_merge_status_recheck``): ask for every MR, and let the checks finish.
        await root.list_merge_requests(PROJECT, MergeRequestQuery(with_merge_status_recheck=True))
        sandbox.catch_up(3)
        pipelines = await root.list_pipelines(PROJECT, ref=BATCH_BRANCH)
    return pipelines[0].id


async def onboard_with_rows(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, batch_pipeline: int
) -> dict[int, int]:
    """The project onboarded and the queue's rows; our MR ids by iid."""
    async with unit_of_work(sessions) as session:
        project = await projects.onboard(
            session,
            settings,
            gitlab_client_factory(settings),
            projects.Actor(None, "test"),
            PROJECT,
            {"webhook_enabled": False, "max_rejections": 2, "strategy": "batch"},
        )
        project_id = project.id
    ids = {}
    for iid in (DRAFT, DISCUSSIONS, APPROVALS, CONFLICT):
        ids[iid] = await add_mr(sessions, project_id, iid, state="not_ready")
    ids[BROKEN] = await add_mr(
        sessions,
        project_id,
        BROKEN,
        state="not_ready",
        strikes=1,
        reasons=["pipeline #1 failed for 0b5c1cf3"],
    )
    ids[CULPRIT] = await add_mr(
        sessions,
        project_id,
        CULPRIT,
        state="rejected",
        strikes=2,
        rejected_at=at(40),
        reasons=["the batch pipeline failed because of it"],
    )
    ids[LOCKED] = await add_mr(
        sessions, project_id, LOCKED, state="not_ready", reasons=[LOCK_REASON]
    )
    await add(
        sessions,
        batch(
            project_id,
            1,
            status="failed",
            member_iids=[APPROVALS, CULPRIT],
            culprit_iids=[CULPRIT],
            pipeline_id=batch_pipeline,
            pipeline_status="failed",
            branch=BATCH_BRANCH,
        ),
        history(
            project_id,
            "struck",
            [BROKEN],
            "s4",
            details={"cause": "not_ready", "strikes": "1"},
            created_at=at(20),
        ),
        history(project_id, "culprit", [CULPRIT], "c6", created_at=at(30)),
        history(
            project_id,
            "struck",
            [CULPRIT],
            "s6",
            details={"cause": "batch_failed", "strikes": "2"},
            created_at=at(31),
        ),
        history(project_id, "rejected", [CULPRIT], "r6", created_at=at(40)),
    )
    return ids
