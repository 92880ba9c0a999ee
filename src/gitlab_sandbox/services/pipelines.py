"""Pipelines: GitLab's records around the CI simulator's runs."""

from __future__ import annotations

import asyncio
import re

from gitlab_sandbox.ci import PipelineRun, PipelineStatus
from gitlab_sandbox.git.objects import ZERO_SHA, MergeConflict
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services import events, green
from gitlab_sandbox.services.accounts import identity_of
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


async def create_mr_pipeline(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user_id: int | None
) -> Pipeline:
    """A ``merge_request_event`` pipeline: a merged results one when the project enables
    them and the MR merges cleanly, else a detached one on the MR's head."""
    if project.settings.merge_pipelines_enabled:
        merged = await create_merged_results_pipeline(sandbox, project, mr, user_id)
        if merged is not None:
            return merged
    return detached_mr_pipeline(sandbox, project, mr, user_id)


async def create_merged_results_pipeline(
    sandbox: Sandbox, project: Project, mr: MergeRequest, user_id: int | None
) -> Pipeline | None:
    """A merged results pipeline (``doc/ci/pipelines/merged_results_pipelines.md``): GitLab
    merges the MR's head into the target's tip, points ``refs/merge-requests/:iid/merge`` at
    that merge commit and tests it; the pipeline's ``sha`` is the merge commit, not the MR's
    head (``source_sha``). None when the branches conflict (GitLab runs a detached pipeline)."""
    repo = sandbox.repo(project)
    source_sha = mr.sha
    author = sandbox.store.users.get(user_id or mr.author_id)
    if source_sha is None or author is None:
        return None
    message = f"Merge branch '{mr.source_branch}' into '{mr.target_branch}'"

    def merge_ref() -> tuple[str, str] | None:
        target_sha = repo.branch_sha(mr.target_branch)
        if target_sha is None:
            return None
        try:
            merged = repo.merge(target_sha, source_sha, message, identity_of(author))
        except MergeConflict:
            return None
        repo.git("update-ref", f"refs/merge-requests/{mr.iid}/merge", merged.id)
        return merged.id, target_sha

    made = await asyncio.to_thread(merge_ref)
    if made is None:
        return None
    pipeline = create_pipeline(
        sandbox,
        project,
        sha=made[0],
        ref=f"refs/merge-requests/{mr.iid}/merge",
        source="merge_request_event",
        user_id=user_id,
        merge_request=mr,
    )
    pipeline.source_sha, pipeline.target_sha = source_sha, made[1]
    return pipeline


def detached_mr_pipeline(
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
