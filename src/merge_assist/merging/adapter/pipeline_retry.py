"""Performing ``RetryPipeline``: GitLab's pipeline retry, at most once per retry number.

GitLab keeps the pipeline's id and runs its failed jobs again as new jobs; the old ones stay
listed with ``include_retried``. So how often a pipeline was retried is read off its jobs (the
most runs of one job name, minus one), which makes the action idempotent: a replay after a
crash finds the retry done and posts nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import (
    GitLabForbidden,
    GitLabNotFound,
    GitLabUnavailable,
    GitLabValidationError,
)
from merge_assist.gitlab.models import Job
from merge_assist.merging.engine import actions as act
from merge_assist.merging.engine.observations import PipelineRetryResult


@dataclass(frozen=True)
class RetrySettle:
    """How long to wait for a retried pipeline to leave ``failed`` (GitLab may lag a moment)."""

    max_seconds: float = 10.0
    poll_seconds: float = 1.0


def times_retried(jobs: Sequence[Job]) -> int:
    """How often the pipeline of ``jobs`` (retried ones included) was retried."""
    runs = Counter(job.name for job in jobs)
    return max(runs.values(), default=1) - 1


async def retry_pipeline(
    client: GitLabClient,
    project_id: int,
    action: act.RetryPipeline,
    settle: RetrySettle = RetrySettle(),
) -> PipelineRetryResult:
    """Retry the pipeline unless retry number ``action.retry`` already happened."""
    done = await _retries(client, project_id, action.pipeline_id)
    if done is None:
        return _refused(action, "the pipeline is not in this project")
    if done >= action.retry:
        return _retried(action, done)
    try:
        pipeline = await client.retry_pipeline(project_id, action.pipeline_id)
    except (GitLabForbidden, GitLabNotFound, GitLabValidationError) as error:
        return _refused(action, str(error))
    except GitLabUnavailable:
        # Never resent: the retry may have happened. Look before letting the runner retry.
        again = await _retries(client, project_id, action.pipeline_id)
        if again is not None and again >= action.retry:
            return _retried(action, again)
        raise
    waited = 0.0
    while pipeline.status == "failed" and waited < settle.max_seconds:
        await asyncio.sleep(settle.poll_seconds)
        waited += settle.poll_seconds
        pipeline = await client.get_pipeline(project_id, action.pipeline_id)
    if pipeline.status != "failed":
        return _retried(action, done + 1)
    # Still failed: the retry ran and failed at once, or GitLab re-ran nothing.
    now = await _retries(client, project_id, action.pipeline_id)
    if now is None or now <= done:
        return _refused(action, "GitLab did not run the pipeline again")
    return _retried(action, now)


async def _retries(client: GitLabClient, project_id: int, pipeline_id: int) -> int | None:
    try:
        jobs = await client.pipeline_jobs(project_id, pipeline_id, include_retried=True)
    except GitLabNotFound:
        return None
    return times_retried(jobs)


def _retried(action: act.RetryPipeline, retries: int) -> PipelineRetryResult:
    return PipelineRetryResult(
        pipeline_id=action.pipeline_id, sha=action.sha, status="retried", retries=retries
    )


def _refused(action: act.RetryPipeline, message: str) -> PipelineRetryResult:
    return PipelineRetryResult(
        pipeline_id=action.pipeline_id, sha=action.sha, status="refused", message=message
    )
