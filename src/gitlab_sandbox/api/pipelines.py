"""Pipelines and jobs: list, get, create, cancel, retry, job logs, play."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from gitlab_sandbox.api.deps import ParamsDep, ReaderDep, SandboxDep, WriterDep, project_for
from gitlab_sandbox.api.errors import ApiError, bad_request, forbidden, not_found
from gitlab_sandbox.api.pagination import paginate
from gitlab_sandbox.api.render_mr import job as render_job
from gitlab_sandbox.api.render_mr import pipeline_basic, pipeline_full
from gitlab_sandbox.ci import CiJob, PipelineStatus
from gitlab_sandbox.sandbox import Sandbox
from gitlab_sandbox.services.permissions import can_push
from gitlab_sandbox.services.pipelines import create_pipeline
from gitlab_sandbox.store import AccessLevel, Pipeline, Project

router = APIRouter()

P = "/projects/{project_id}"
_SCOPES = {
    "running": {"running"},
    "pending": {"pending", "created"},
    "finished": {"success", "failed", "canceled", "skipped"},
}
# lib/api/ci/pipelines.rb validates these with Grape's ``values``: anything else is a 400.
_STATUSES = frozenset(status.value for status in PipelineStatus)
_ALL_SCOPES = frozenset({*_SCOPES, "branches", "tags"})


def _pipeline(sandbox: Sandbox, project: Project, pipeline_id: int) -> Pipeline:
    pipeline = sandbox.store.pipelines.get(pipeline_id)
    if pipeline is None or pipeline.project_id != project.id:
        raise not_found("Pipeline")
    return pipeline


def _job(sandbox: Sandbox, project: Project, job_id: int) -> tuple[Pipeline, CiJob]:
    for pipeline in sandbox.store.project_pipelines(project.id):
        for job in pipeline.run.jobs:
            if job.id == job_id:
                return pipeline, job
    raise not_found("Job")


@router.get(P + "/pipelines")
def list_pipelines(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    for name, allowed in (("status", _STATUSES), ("scope", _ALL_SCOPES)):
        value = params.str(name)
        if value is not None and value not in allowed:
            raise ApiError(400, f"{name} does not have a valid value", key="error")
    found = sandbox.store.project_pipelines(project.id)
    for name in ("status", "ref", "sha", "source"):
        wanted = params.str(name)
        if wanted is not None:
            found = [p for p in found if getattr(p, name) == wanted]
    scope = params.str("scope")
    if scope in _SCOPES:
        found = [p for p in found if p.status in _SCOPES[scope]]
    elif scope == "branches":
        found = [p for p in found if not p.ref.startswith("refs/")]
    elif scope == "tags":
        found = []  # the sandbox runs no tag pipelines
    username = params.str("username")
    if username is not None:
        user = sandbox.store.user_by_username(username)
        found = [p for p in found if user is not None and p.user_id == user.id]
    after = params.datetime("updated_after")
    if after is not None:
        found = [p for p in found if (p.updated_at or p.created_at) >= after]
    found.sort(key=lambda p: p.id, reverse=params.str("sort") != "asc")
    page, headers = paginate(request, params, found)
    return JSONResponse([pipeline_basic(sandbox, project, p) for p in page], headers=headers)


@router.post(P + "/pipeline", status_code=201)
@router.post(P + "/pipelines", status_code=201)
async def create(
    project_id: str, params: ParamsDep, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Run a pipeline on the tip of ``ref``."""
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    (ref,) = params.required_str("ref")
    sha = await asyncio.to_thread(sandbox.repo(project).branch_sha, ref)
    if sha is None:
        raise bad_request("Reference not found")
    if not can_push(sandbox, project, caller.user, ref) and sandbox.store.protection_for(
        project, ref
    ):
        raise forbidden("403 Forbidden - Insufficient permissions to create a new pipeline")
    pipeline = create_pipeline(
        sandbox, project, sha=sha, ref=ref, source="api", user_id=caller.user.id
    )
    return pipeline_full(sandbox, project, pipeline)


@router.get(P + "/pipelines/latest")
def latest(
    project_id: str, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    ref = params.str("ref") or project.default_branch
    found = [p for p in sandbox.store.project_pipelines(project.id) if p.ref == ref]
    if not found:
        raise not_found("Pipeline")
    return pipeline_full(sandbox, project, max(found, key=lambda p: p.id))


@router.get(P + "/pipelines/{pipeline_id}")
def get(
    project_id: str, pipeline_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    return pipeline_full(sandbox, project, _pipeline(sandbox, project, pipeline_id))


@router.post(P + "/pipelines/{pipeline_id}/cancel")
def cancel(
    project_id: str, pipeline_id: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    pipeline = _pipeline(sandbox, project, pipeline_id)
    sandbox.ci.cancel(pipeline.id)
    pipeline.updated_at = sandbox.now()
    return pipeline_full(sandbox, project, pipeline)


@router.post(P + "/pipelines/{pipeline_id}/retry", status_code=201)
def retry(
    project_id: str, pipeline_id: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    pipeline = _pipeline(sandbox, project, pipeline_id)
    sandbox.ci.retry(pipeline.id)
    pipeline.updated_at = sandbox.now()
    return pipeline_full(sandbox, project, pipeline)


@router.get(P + "/pipelines/{pipeline_id}/jobs")
def pipeline_jobs(
    project_id: str,
    pipeline_id: int,
    request: Request,
    params: ParamsDep,
    caller: ReaderDep,
    sandbox: SandboxDep,
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    pipeline = _pipeline(sandbox, project, pipeline_id)
    jobs = [j for j in pipeline.run.jobs if params.bool("include_retried") or not j.retried]
    jobs.sort(key=lambda j: -j.id)
    page, headers = paginate(request, params, jobs)
    return JSONResponse(
        [render_job(sandbox, project, pipeline, j, caller.user) for j in page], headers=headers
    )


@router.get(P + "/jobs")
def project_jobs(
    project_id: str, request: Request, params: ParamsDep, caller: ReaderDep, sandbox: SandboxDep
) -> JSONResponse:
    project = project_for(sandbox, caller, project_id)
    rows = [(p, j) for p in sandbox.store.project_pipelines(project.id) for j in p.run.jobs]
    scope = params.list("scope")
    if scope:
        rows = [(p, j) for p, j in rows if j.status.value in scope]
    rows.sort(key=lambda row: -row[1].id)
    page, headers = paginate(request, params, rows)
    return JSONResponse(
        [render_job(sandbox, project, p, j, caller.user) for p, j in page], headers=headers
    )


@router.get(P + "/jobs/{job_id}")
def get_job(project_id: str, job_id: int, caller: ReaderDep, sandbox: SandboxDep) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id)
    pipeline, job = _job(sandbox, project, job_id)
    return render_job(sandbox, project, pipeline, job, caller.user)


@router.get(P + "/jobs/{job_id}/trace")
def job_trace(
    project_id: str, job_id: int, caller: ReaderDep, sandbox: SandboxDep
) -> PlainTextResponse:
    project = project_for(sandbox, caller, project_id)
    _, job = _job(sandbox, project, job_id)
    return PlainTextResponse(job.log)


@router.post(P + "/jobs/{job_id}/play")
def play_job(
    project_id: str, job_id: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    """Play a manual job (``lib/api/ci/jobs.rb``): it queues and runs; any other job is
    GitLab's ``400 Unplayable Job``."""
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    pipeline, job = _job(sandbox, project, job_id)
    if not sandbox.ci.play(job.id):
        raise ApiError(400, "400 Unplayable Job")
    pipeline.updated_at = sandbox.now()
    return render_job(sandbox, project, pipeline, job, caller.user)


@router.post(P + "/jobs/{job_id}/retry", status_code=201)
def retry_job(
    project_id: str, job_id: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    pipeline, _ = _job(sandbox, project, job_id)
    if not sandbox.ci.retry(pipeline.id):
        raise forbidden("403 Forbidden - Job is not retryable")
    job = pipeline.run.current_job
    assert job is not None
    return render_job(sandbox, project, pipeline, job, caller.user)


@router.post(P + "/jobs/{job_id}/cancel", status_code=201)
def cancel_job(
    project_id: str, job_id: int, caller: WriterDep, sandbox: SandboxDep
) -> dict[str, Any]:
    project = project_for(sandbox, caller, project_id, AccessLevel.DEVELOPER)
    pipeline, job = _job(sandbox, project, job_id)
    sandbox.ci.cancel(pipeline.id)
    return render_job(sandbox, project, pipeline, job, caller.user)
