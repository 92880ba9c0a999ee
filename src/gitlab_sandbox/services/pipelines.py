"""Pipelines: GitLab's records around the CI simulator's runs."""

from __future__ import annotations

from gitlab_sandbox.ci import PipelineRun
from gitlab_sandbox.git.objects import ZERO_SHA
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events, green
from gitlab_sandbox.store import MergeRequest, Pipeline, Project


def create_pipeline(
    sandbox: Sandbox,
    project: Project,
    *,
    sha: str,
    ref: str,
    source: str,
    user_id: int | None,
    before_sha: str | None = None,
    merge_request: MergeRequest | None = None,
) -> Pipeline:
    """Record a pipeline and hand it to the CI simulator (which queues and runs it)."""
    now = sandbox.now()
    pipeline_id = sandbox.store.next_id("pipeline")
    run = PipelineRun(
        id=pipeline_id,
        project_key=project.path_with_namespace,
        sha=sha,
        ref=ref,
        source=source,
        created_at=now,
    )
    pipeline = Pipeline(
        id=pipeline_id,
        iid=sandbox.store.next_id(f"pipeline-iid-{project.id}"),
        project_id=project.id,
        sha=sha,
        ref=ref,
        source=source,
        user_id=user_id,
        created_at=now,
        updated_at=now,
        run=run,
        before_sha=before_sha or ZERO_SHA,
        merge_request_iid=merge_request.iid if merge_request else None,
    )
    sandbox.store.add_pipeline(pipeline)
    sandbox.ci.submit(run)
    return pipeline


def create_mr_pipeline(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user_id: int | None
) -> Pipeline:
    """A ``merge_request_event`` pipeline on the MR's head (GitLab's detached MR pipeline)."""
    assert mr.sha is not None
    return create_pipeline(
        sandbox,
        project,
        sha=mr.sha,
        ref=f"refs/merge-requests/{mr.iid}/head",
        source="merge_request_event",
        user_id=user_id,
        merge_request=mr,
    )


async def on_run_change(sandbox: Sandbox, run: PipelineRun) -> None:
    """React to a CI status change: timestamps, the pipeline webhook, auto-merge."""
    pipeline = sandbox.store.pipelines.get(run.id)
    if pipeline is None:
        return
    pipeline.updated_at = sandbox.now()
    project = sandbox.store.projects.get(pipeline.project_id)
    if project is None:
        return
    events.pipeline_event(sandbox, project, pipeline)
    if run.status.finished:
        green.record_result(sandbox, project, pipeline)
    if run.status.value == "success":
        # Late import: merging depends on pushes, which depends on this module.
        from gitlab_sandbox.services.merging import merge_when_pipeline_succeeds

        await merge_when_pipeline_succeeds(sandbox, project, pipeline)
