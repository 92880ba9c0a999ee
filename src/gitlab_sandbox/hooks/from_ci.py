"""Turn the CI simulator's pipelines into pipeline hook inputs."""

from __future__ import annotations

from gitlab_sandbox.ci.pipeline import PipelineRun
from gitlab_sandbox.hooks.models import ZERO_SHA, HookBuild, HookPipeline, HookUser


def hook_pipeline(
    run: PipelineRun, *, iid: int, url: str, before_sha: str = ZERO_SHA, name: str | None = None
) -> HookPipeline:
    """The pipeline hook's ``object_attributes`` input for a simulator pipeline."""
    return HookPipeline(
        id=run.id,
        iid=iid,
        ref=run.ref,
        sha=run.sha,
        status=run.status.value,
        source=run.source,
        before_sha=before_sha,
        detailed_status=run.detailed_status,
        stages=tuple(dict.fromkeys(job.stage for job in run.jobs)) or ("test",),
        created_at=run.created_at,
        finished_at=run.finished_at,
        duration=run.duration,
        queued_duration=run.queued_duration,
        url=url,
        name=name,
    )


def hook_builds(run: PipelineRun, user: HookUser | None = None) -> list[HookBuild]:
    """The pipeline hook's ``builds``: the current attempt's jobs."""
    return [
        HookBuild(
            id=job.id,
            name=job.name,
            stage=job.stage,
            status=job.status.value,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            duration=job.duration,
            queued_duration=job.queued_duration,
            failure_reason=job.failure_reason,
            user=user,
        )
        for job in run.jobs
        if not job.retried
    ]
