"""The diagnosis of MRs the real queue rejected: the worker's runtime drives the sandbox until
the queue settles (batch strategy, one strike), then the explanation of the CI breaker and of
the losing one of the conflicting pair reads what the runner stored and what GitLab says.
The project asks for the next step in its rejection comments (``explain_on_rejection``): each
rejected MR has one rejection comment, carrying it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.assistant.service import explain_reference
from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import AppResources
from merge_assist.merging.persistence.models import MergeRequestRecord
from merge_assist.projects.gitlab_access import gitlab_client_factory
from tests.assistant.sandbox_setup import sandbox_settings
from tests.merging.adapter.driver import BOT, PROJECT, queue_scenario
from tests.merging.adapter.test_queue_against_sandbox import onboard, run_until_settled

BROKEN = 4
CONFLICTING = (7, 8)


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(queue_scenario()) as running:
        yield running


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for(BOT))
    return sandbox_settings(database_url, tmp_path, sandbox)


async def test_rejected_mrs_of_a_real_run_are_explained(
    app: object,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    res: AppResources = app.state.resources  # type: ignore[attr-defined]
    project_id = await onboard(sessions, settings, strategy="batch", explain_on_rejection=True)
    await run_until_settled(res, sandbox, project_id)
    async with sessions() as session:
        rejected = set(
            (
                await session.execute(
                    select(MergeRequestRecord.iid).where(
                        MergeRequestRecord.project_id == project_id,
                        MergeRequestRecord.queue_state == "rejected",
                    )
                )
            ).scalars()
        )
    assert BROKEN in rejected
    (loser,) = rejected & set(CONFLICTING)
    factory = gitlab_client_factory(settings)
    async with sessions() as session:
        broken = await explain_reference(session, factory, f"{PROJECT}!{BROKEN}")
        conflicting = await explain_reference(session, factory, f"{PROJECT}!{loser}")

    for found in (broken, conflicting):
        assert found.queue_state == "rejected"
        assert found.strikes == 1
        assert found.max_strikes == 1
        assert found.since is not None
        assert found.notes == []
        assert len(found.strike_history) == 1
        # Every reason the runner stored is one the diagnosis knows.
        assert found.reasons
        assert "unknown" not in {reason.code for reason in found.reasons}, found.reasons
        assert found.next_step.endswith("assign the bot again to queue it anew.")
    # The CI breaker: its failing job and the assertion naming the marker's file.
    assert broken.failing_jobs, broken
    assert any("src/broken4.txt" in line for line in broken.failing_jobs[0].excerpt)
    assert broken.failing_jobs[0].excerpt[-1] == "ERROR: Job failed: exit code 1"
    assert broken.strike_history[0].cause in {"not_ready", "batch_failed"}
    # The loser of the conflicting pair: a conflict, whichever way the queue met it.
    conflict_codes = {"conflicts", "batch_conflict", "rebase_failed"}
    assert conflict_codes & {reason.code for reason in conflicting.reasons}, conflicting.reasons
    assert conflicting.next_step.count("resolve the conflicts") == 1
    await _rejection_comments_carry_the_next_step(sandbox, {BROKEN, loser})


async def _rejection_comments_carry_the_next_step(
    sandbox: RunningSandbox, rejected: set[int]
) -> None:
    async with GitLabClient(
        sandbox.url, sandbox.token_for("root"), retry=RetryPolicy(max_retries=0)
    ) as root:
        for iid in rejected:
            notes = await root.mr_notes(PROJECT, iid)
            rejections = [
                note.body
                for note in notes
                if note.author is not None
                and note.author.username == BOT
                and "rejected by the merge queue" in note.body
            ]
            assert len(rejections) == 1, [note.body for note in notes]
            body = rejections[0]
            assert "**What to do next:** " in body, body
            assert "assign the bot again to queue it anew." in body
            assert body.index("What to do next") < body.index("— *")  # before the signature
            assert not any(line.lstrip().startswith("/") for line in body.splitlines())
