"""Merge requests: read, update, create, merge, rebase, notes, discussions, approvals."""

from __future__ import annotations

import math
from typing import Literal

from merge_assist.gitlab.core import GitLabCore, ProjectRef
from merge_assist.gitlab.errors import (
    GitLabMergeFailed,
    GitLabNotFound,
    GitLabRebaseTimeout,
    GitLabValidationError,
)
from merge_assist.gitlab.inputs import MergeRequestChanges, MergeRequestQuery, NewMergeRequest
from merge_assist.gitlab.models import (
    Approvals,
    Commit,
    Diff,
    Discussion,
    MergeRequest,
    Note,
    PipelineRef,
)

MR = "/projects/{project}/merge_requests/{iid}"


class MergeRequestsApi(GitLabCore):
    """Everything the merge engine does to a merge request through the REST API."""

    async def list_merge_requests(
        self,
        project: ProjectRef,
        query: MergeRequestQuery = MergeRequestQuery(),
        *,
        max_pages: int | None = None,
    ) -> list[MergeRequest]:
        """A project's merge requests matching ``query`` (``GET .../merge_requests``), all pages.

        The list carries neither ``head_pipeline`` nor ``diff_refs`` (read one MR for those).
        """
        return [
            MergeRequest.model_validate(item)
            async for item in self.paginate(
                "/projects/{project}/merge_requests",
                query.as_params(),
                path_params={"project": project},
                operation="mr.list",
                max_pages=max_pages,
            )
        ]

    async def get_merge_request(
        self, project: ProjectRef, iid: int, *, include_rebase_in_progress: bool = True
    ) -> MergeRequest:
        """One merge request (``GET /projects/:id/merge_requests/:iid``)."""
        call = self.api_call(
            "GET",
            MR,
            operation="mr.get",
            path_params={"project": project, "iid": iid},
            params={"include_rebase_in_progress": include_rebase_in_progress},
        )
        return MergeRequest.model_validate(await self.json(call))

    async def update_merge_request(
        self, project: ProjectRef, iid: int, changes: MergeRequestChanges
    ) -> MergeRequest:
        """Apply ``changes`` to a merge request (``PUT /projects/:id/merge_requests/:iid``).

        Every field *sets* state, so the call is retried safely.
        """
        call = self.api_call(
            "PUT",
            MR,
            operation="mr.update",
            path_params={"project": project, "iid": iid},
            json=changes.as_body(),
            retry_safe=True,
        )
        return MergeRequest.model_validate(await self.json(call))

    async def create_merge_request(self, project: ProjectRef, new: NewMergeRequest) -> MergeRequest:
        """Open a merge request (``POST /projects/:id/merge_requests``); 409 if one is open."""
        call = self.api_call(
            "POST",
            "/projects/{project}/merge_requests",
            operation="mr.create",
            path_params={"project": project},
            json=new.as_body(),
        )
        return MergeRequest.model_validate(await self.json(call))

    async def merge_merge_request(
        self,
        project: ProjectRef,
        iid: int,
        *,
        sha: str | None,
        squash: bool | None = None,
        should_remove_source_branch: bool | None = None,
        merge_commit_message: str | None = None,
        squash_commit_message: str | None = None,
    ) -> MergeRequest:
        """Merge now (``PUT .../merge``), pinned to ``sha`` — the head that passed CI.

        Raises :class:`GitLabConflict` (409, checked first) when the head moved past ``sha``,
        :class:`GitLabNotMergeable` when GitLab refuses an MR that is not mergeable (405:
        draft, conflict, needs a rebase, approvals, pipeline, closed; 406 before GitLab 16) and
        :class:`GitLabMergeFailed` (422, "Branch cannot be merged") when the merge itself
        failed, e.g. the target moved under it. Only resent when the request
        never reached GitLab: after an ambiguous failure the caller must re-read the merge
        request (it may be merged already).
        """
        body = {
            "sha": sha,
            "squash": squash,
            "should_remove_source_branch": should_remove_source_branch,
            "merge_commit_message": merge_commit_message,
            "squash_commit_message": squash_commit_message,
        }
        call = self.api_call(
            "PUT",
            MR + "/merge",
            operation="mr.merge",
            path_params={"project": project, "iid": iid},
            json=body,
        )
        try:
            return MergeRequest.model_validate(await self.json(call))
        except GitLabValidationError as exc:
            # GitLab 16+ answers "422 Branch cannot be merged" when the merge itself failed.
            if exc.status != 422:
                raise
            raise GitLabMergeFailed(
                exc.message, status=exc.status, operation=exc.operation, body=exc.body
            ) from exc

    async def rebase_merge_request(
        self, project: ProjectRef, iid: int, *, skip_ci: bool = False
    ) -> bool:
        """Ask GitLab to rebase the source branch (``PUT .../rebase``); True while it runs.

        The rebase is asynchronous: follow with :meth:`wait_for_rebase`. A 409 means a rebase
        is already in progress; a 403 that the bot may not push to the source branch.
        """
        call = self.api_call(
            "PUT",
            MR + "/rebase",
            operation="mr.rebase",
            path_params={"project": project, "iid": iid},
            json={"skip_ci": skip_ci} if skip_ci else None,
        )
        body = await self.json(call)
        return bool(isinstance(body, dict) and body.get("rebase_in_progress", True))

    async def wait_for_rebase(
        self, project: ProjectRef, iid: int, *, max_wait: float = 300.0, interval: float = 2.0
    ) -> MergeRequest:
        """Poll until GitLab finishes the rebase; the result carries ``merge_error`` if it failed.

        Polls at most ``max_wait / interval`` times, then raises :class:`GitLabRebaseTimeout`.
        """
        polls = max(1, math.ceil(max_wait / interval))
        for poll in range(polls):
            mr = await self.get_merge_request(project, iid, include_rebase_in_progress=True)
            if not mr.rebase_in_progress:
                return mr
            if poll + 1 < polls:
                await self._sleep(interval)
        raise GitLabRebaseTimeout(
            f"The rebase of merge request !{iid} was still running after {max_wait:g} seconds.",
            operation="mr.rebase",
        )

    async def mr_notes(
        self, project: ProjectRef, iid: int, *, sort: Literal["asc", "desc"] = "asc"
    ) -> list[Note]:
        """The merge request's comments, system notes included (``GET .../notes``)."""
        return [
            Note.model_validate(item)
            async for item in self.paginate(
                MR + "/notes",
                {"sort": sort, "order_by": "created_at"},
                path_params={"project": project, "iid": iid},
                operation="mr.notes",
            )
        ]

    async def newest_notes(self, project: ProjectRef, iid: int, *, limit: int = 100) -> list[Note]:
        """The newest ``limit`` (≤ 100) notes, newest first: one call, however long the thread."""
        call = self.api_call(
            "GET",
            MR + "/notes",
            operation="mr.notes",
            path_params={"project": project, "iid": iid},
            params={
                "sort": "desc",
                "order_by": "created_at",
                "per_page": max(1, min(limit, 100)),
            },
        )
        return [Note.model_validate(item) for item in await self.json(call) or []]

    async def create_note(self, project: ProjectRef, iid: int, body: str) -> Note:
        """Comment on the merge request (``POST .../notes``); never resent (no duplicates)."""
        call = self.api_call(
            "POST",
            MR + "/notes",
            operation="mr.note.create",
            path_params={"project": project, "iid": iid},
            json={"body": body},
        )
        return Note.model_validate(await self.json(call))

    async def mr_discussions(self, project: ProjectRef, iid: int) -> list[Discussion]:
        """The merge request's threads (``GET .../discussions``)."""
        return [
            Discussion.model_validate(item)
            async for item in self.paginate(
                MR + "/discussions",
                path_params={"project": project, "iid": iid},
                operation="mr.discussions",
            )
        ]

    async def mr_approvals(self, project: ProjectRef, iid: int) -> Approvals:
        """Approval state (``GET .../approvals``)."""
        call = self.api_call(
            "GET",
            MR + "/approvals",
            operation="mr.approvals",
            path_params={"project": project, "iid": iid},
        )
        return Approvals.model_validate(await self.json(call))

    async def mr_pipelines(self, project: ProjectRef, iid: int) -> list[PipelineRef]:
        """Pipelines of the merge request, newest first (``GET .../pipelines``)."""
        return [
            PipelineRef.model_validate(item)
            async for item in self.paginate(
                MR + "/pipelines",
                path_params={"project": project, "iid": iid},
                operation="mr.pipelines",
            )
        ]

    async def mr_changes(self, project: ProjectRef, iid: int) -> list[Diff]:
        """Files changed by the merge request (``GET .../diffs``; ``.../changes`` before 15.7)."""
        path_params = {"project": project, "iid": iid}
        try:
            return [
                Diff.model_validate(item)
                async for item in self.paginate(
                    MR + "/diffs", path_params=path_params, operation="mr.changes"
                )
            ]
        except GitLabNotFound:
            call = self.api_call(
                "GET", MR + "/changes", operation="mr.changes", path_params=path_params
            )
            body = await self.json(call)
            return [Diff.model_validate(item) for item in body.get("changes", [])]

    async def mr_commits(self, project: ProjectRef, iid: int) -> list[Commit]:
        """Commits of the merge request (``GET .../commits``)."""
        return [
            Commit.model_validate(item)
            async for item in self.paginate(
                MR + "/commits",
                path_params={"project": project, "iid": iid},
                operation="mr.commits",
            )
        ]
