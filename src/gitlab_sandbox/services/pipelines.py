"""Pipelines: GitLab's records around the CI simulator's runs."""

from __future__ import annotations

import re

from gitlab_sandbox.ci import PipelineRun, PipelineStatus
from gitlab_sandbox.git.objects import ZERO_SHA
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events, green
from gitlab_sandbox.store import MergeRequest, Pipeline, Project

# lib/gitlab/ci/pipeline/chain/skip.rb
SKIP_PATTERN = re.compile(r"\[(ci[ _-]skip|skip[ _-]ci)\]", re.IGNORECASE)


def skips_ci(message: str) -> bool:
    """Whether a commit message asks GitLab not to run CI (``[ci skip]``, ``[skip ci]``...)."""
    return SKIP_PATTERN.search(message) is not None


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
    pipeline = _record(sandbox, project, sha, ref, source, user_id, before_sha, merge_request)
    sandbox.ci.submit(pipeline.run)
    return pipeline


def create_skipped_pipeline(
    sandbox: Sandbox,
    project: Project,
    *,
    sha: str,
    ref: str,
    user_id: int | None,
    before_sha: str | None = None,
) -> Pipeline:
    """A push pipeline saved as ``skipped`` that never runs (``[ci skip]`` in the tip's
    message, ``git push -o ci.skip``), as GitLab's ``Chain::Skip`` saves it."""
    pipeline = _record(sandbox, project, sha, ref, "push", user_id, before_sha, None)
    pipeline.run.status = PipelineStatus.skipped
    pipeline.run.finished_at = pipeline.created_at
    sandbox.ci.record(pipeline.run)
    return pipeline


def _record(
    sandbox: Sandbox,
    project: Project,
    sha: str,
    ref: str,
    source: str,
    user_id: int | None,
    before_sha: str | None,
    merge_request: MergeRequest | None,
) -> Pipeline:
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
        from gitlab_sandbox.services.auto_merge import pipeline_succeeded

        await pipeline_succeeded(sandbox, project, pipeline)
