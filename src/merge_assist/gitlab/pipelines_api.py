"""Pipelines and jobs."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from merge_assist.gitlab.core import GitLabCore, ProjectRef
from merge_assist.gitlab.models import Job, Pipeline

PIPELINE = "/projects/{project}/pipelines/{pipeline_id}"


class PipelinesApi(GitLabCore):
    """Find, start, cancel and retry pipelines; read jobs and their logs."""

    async def list_pipelines(
        self,
        project: ProjectRef,
        *,
        sha: str | None = None,
        ref: str | None = None,
        status: str | None = None,
        source: str | None = None,
        limit: int = 100,
    ) -> list[Pipeline]:
        """The newest ``limit`` (≤ 100) pipelines, newest first (``GET /projects/:id/pipelines``).

        The engine asks for the pipelines of one sha or ref, where the newest page is enough.
        """
        params = {
            "sha": sha,
            "ref": ref,
            "status": status,
            "source": source,
            "order_by": "id",
            "sort": "desc",
            "per_page": max(1, min(limit, 100)),
        }
        call = self.api_call(
            "GET",
            "/projects/{project}/pipelines",
            operation="pipeline.list",
            path_params={"project": project},
            params=params,
        )
        return [Pipeline.model_validate(item) for item in await self.json(call) or []]

    async def get_pipeline(self, project: ProjectRef, pipeline_id: int) -> Pipeline:
        """One pipeline (``GET /projects/:id/pipelines/:pipeline_id``)."""
        call = self.api_call(
            "GET",
            PIPELINE,
            operation="pipeline.get",
            path_params={"project": project, "pipeline_id": pipeline_id},
        )
        return Pipeline.model_validate(await self.json(call))

    async def create_pipeline(
        self, project: ProjectRef, ref: str, *, variables: Mapping[str, str] | None = None
    ) -> Pipeline:
        """Start a pipeline on ``ref`` (``POST /projects/:id/pipeline``); never resent."""
        body = {
            "ref": ref,
            "variables": [
                {"key": key, "value": value, "variable_type": "env_var"}
                for key, value in (variables or {}).items()
            ]
            or None,
        }
        call = self.api_call(
            "POST",
            "/projects/{project}/pipeline",
            operation="pipeline.create",
            path_params={"project": project},
            json=body,
        )
        return Pipeline.model_validate(await self.json(call))

    async def cancel_pipeline(self, project: ProjectRef, pipeline_id: int) -> Pipeline:
        """Cancel a pipeline's jobs (``POST .../cancel``); cancelling twice is harmless."""
        call = self.api_call(
            "POST",
            PIPELINE + "/cancel",
            operation="pipeline.cancel",
            path_params={"project": project, "pipeline_id": pipeline_id},
            retry_safe=True,
        )
        return Pipeline.model_validate(await self.json(call))

    async def retry_pipeline(self, project: ProjectRef, pipeline_id: int) -> Pipeline:
        """Retry the failed jobs of a pipeline (``POST .../retry``); never resent."""
        call = self.api_call(
            "POST",
            PIPELINE + "/retry",
            operation="pipeline.retry",
            path_params={"project": project, "pipeline_id": pipeline_id},
        )
        return Pipeline.model_validate(await self.json(call))

    async def pipeline_jobs(
        self, project: ProjectRef, pipeline_id: int, *, include_retried: bool = False
    ) -> list[Job]:
        """The pipeline's jobs (``GET .../jobs``)."""
        return [
            Job.model_validate(item)
            async for item in self.paginate(
                PIPELINE + "/jobs",
                {"include_retried": include_retried},
                path_params={"project": project, "pipeline_id": pipeline_id},
                operation="pipeline.jobs",
            )
        ]

    async def job_trace(
        self, project: ProjectRef, job_id: int, *, max_bytes: int = 1_000_000
    ) -> str:
        """The job's log (``GET /projects/:id/jobs/:job_id/trace``), its last ``max_bytes``."""
        call = self.api_call(
            "GET",
            "/projects/{project}/jobs/{job_id}/trace",
            operation="job.trace",
            path_params={"project": project, "job_id": job_id},
            timeout=httpx.Timeout(self.timeout.connect, read=120.0, write=30.0, pool=10.0),
        )
        response = await self.send(call)
        return response.content[-max_bytes:].decode("utf-8", errors="replace")
