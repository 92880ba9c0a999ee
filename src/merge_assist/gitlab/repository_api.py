"""Branches, commits, files, trees and comparisons of a project's repository."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from merge_assist.gitlab.core import GitLabCore, ProjectRef
from merge_assist.gitlab.errors import GitLabNotFound
from merge_assist.gitlab.inputs import GitAuthor
from merge_assist.gitlab.models import (
    Branch,
    Commit,
    CommitAction,
    CommitRef,
    Compare,
    RepositoryFile,
    RepositoryFileMetadata,
    TreeEntry,
)

REPO = "/projects/{project}/repository"


class RepositoryApi(GitLabCore):
    """Read and write the repository through the REST API (no clone needed)."""

    async def get_branch(self, project: ProjectRef, branch: str) -> Branch:
        """One branch with its head commit (``GET .../repository/branches/:branch``)."""
        call = self.api_call(
            "GET",
            REPO + "/branches/{branch}",
            operation="branch.get",
            path_params={"project": project, "branch": branch},
        )
        return Branch.model_validate(await self.json(call))

    async def list_branches(
        self, project: ProjectRef, *, search: str | None = None, max_pages: int | None = None
    ) -> list[Branch]:
        """Branches, optionally matching ``search`` (``GET .../repository/branches``)."""
        return [
            Branch.model_validate(item)
            async for item in self.paginate(
                REPO + "/branches",
                {"search": search},
                path_params={"project": project},
                operation="branch.list",
                max_pages=max_pages,
            )
        ]

    async def create_branch(self, project: ProjectRef, branch: str, ref: str) -> Branch:
        """Create ``branch`` at ``ref`` (``POST .../repository/branches``); 400 if it exists."""
        call = self.api_call(
            "POST",
            REPO + "/branches",
            operation="branch.create",
            path_params={"project": project},
            json={"branch": branch, "ref": ref},
        )
        return Branch.model_validate(await self.json(call))

    async def delete_branch(
        self, project: ProjectRef, branch: str, *, missing_ok: bool = False
    ) -> None:
        """Delete a branch (``DELETE .../repository/branches/:branch``).

        A DELETE is retried after an ambiguous failure, so a 404 may mean an earlier attempt
        already deleted it: clean-ups pass ``missing_ok=True``.
        """
        call = self.api_call(
            "DELETE",
            REPO + "/branches/{branch}",
            operation="branch.delete",
            path_params={"project": project, "branch": branch},
        )
        try:
            await self.send(call)
        except GitLabNotFound:
            if not missing_ok:
                raise

    async def get_commit(self, project: ProjectRef, sha: str) -> Commit:
        """One commit by sha, branch or tag (``GET .../repository/commits/:sha``)."""
        call = self.api_call(
            "GET",
            REPO + "/commits/{sha}",
            operation="commit.get",
            path_params={"project": project, "sha": sha},
        )
        return Commit.model_validate(await self.json(call))

    async def list_commits(
        self,
        project: ProjectRef,
        *,
        ref_name: str | None = None,
        path: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        max_pages: int | None = None,
    ) -> list[Commit]:
        """Commits, newest first (``GET .../repository/commits``), optionally of one path."""
        params = {"ref_name": ref_name, "path": path, "since": since, "until": until}
        return [
            Commit.model_validate(item)
            async for item in self.paginate(
                REPO + "/commits",
                params,
                path_params={"project": project},
                operation="commit.list",
                max_pages=max_pages,
            )
        ]

    async def file_history(
        self, project: ProjectRef, path: str, *, ref: str | None = None
    ) -> list[Commit]:
        """The commits that touched ``path``, newest first (the vault's version history)."""
        return await self.list_commits(project, ref_name=ref, path=path)

    async def create_commit(
        self,
        project: ProjectRef,
        branch: str,
        message: str,
        actions: Sequence[CommitAction],
        *,
        author: GitAuthor | None = None,
        start_branch: str | None = None,
        start_sha: str | None = None,
        force: bool | None = None,
    ) -> Commit:
        """Commit file changes in one go (``POST .../repository/commits``); never resent.

        An ``update`` action carrying ``last_commit_id`` is a compare-and-swap: GitLab refuses
        it (400) when the file changed since that commit. Without ``author`` GitLab records the
        token's user.
        """
        body: dict[str, Any] = {
            "branch": branch,
            "commit_message": message,
            "actions": [action.as_payload() for action in actions],
            "author_name": None if author is None else author.name,
            "author_email": None if author is None else author.email,
            "start_branch": start_branch,
            "start_sha": start_sha,
            "force": force,
        }
        call = self.api_call(
            "POST",
            REPO + "/commits",
            operation="commit.create",
            path_params={"project": project},
            json=body,
        )
        return Commit.model_validate(await self.json(call))

    async def commit_refs(
        self,
        project: ProjectRef,
        sha: str,
        *,
        ref_type: Literal["branch", "tag", "all"] = "all",
    ) -> list[CommitRef]:
        """Branches and tags containing ``sha`` (``GET .../commits/:sha/refs``)."""
        return [
            CommitRef.model_validate(item)
            async for item in self.paginate(
                REPO + "/commits/{sha}/refs",
                {"type": ref_type},
                path_params={"project": project, "sha": sha},
                operation="commit.refs",
            )
        ]

    async def get_file(self, project: ProjectRef, path: str, *, ref: str) -> RepositoryFile:
        """A file with metadata and base64 content (``GET .../repository/files/:path``)."""
        call = self.api_call(
            "GET",
            REPO + "/files/{path}",
            operation="file.get",
            path_params={"project": project, "path": path},
            params={"ref": ref},
        )
        return RepositoryFile.model_validate(await self.json(call))

    async def update_file(
        self,
        project: ProjectRef,
        path: str,
        content: bytes,
        *,
        branch: str,
        message: str,
        last_commit_id: str | None = None,
    ) -> None:
        """Replace one file's content (``PUT .../repository/files/:path``); never resent.

        With ``last_commit_id`` it is a compare-and-swap: GitLab refuses it (400) when the
        file changed since that commit.
        """
        call = self.api_call(
            "PUT",
            REPO + "/files/{path}",
            operation="file.update",
            path_params={"project": project, "path": path},
            json={
                "branch": branch,
                "commit_message": message,
                "content": base64.b64encode(content).decode("ascii"),
                "encoding": "base64",
                "last_commit_id": last_commit_id,
            },
        )
        await self.send(call)

    async def file_metadata(
        self, project: ProjectRef, path: str, *, ref: str
    ) -> RepositoryFileMetadata:
        """A file's size, hashes and last commit without its content (``HEAD .../files/:path``)."""
        call = self.api_call(
            "HEAD",
            REPO + "/files/{path}",
            operation="file.head",
            path_params={"project": project, "path": path},
            params={"ref": ref},
        )
        response = await self.send(call)
        return RepositoryFileMetadata.from_headers(response.headers)

    async def get_raw_file(
        self, project: ProjectRef, path: str, *, ref: str, lfs: bool = False
    ) -> bytes:
        """A file's bytes (``GET .../files/:path/raw``); ``lfs`` resolves LFS pointers."""
        call = self.api_call(
            "GET",
            REPO + "/files/{path}/raw",
            operation="file.raw",
            path_params={"project": project, "path": path},
            params={"ref": ref, "lfs": lfs or None},
        )
        return (await self.send(call)).content

    async def tree(
        self,
        project: ProjectRef,
        *,
        path: str | None = None,
        ref: str | None = None,
        recursive: bool = False,
        max_pages: int | None = None,
    ) -> list[TreeEntry]:
        """Entries of a folder (``GET .../repository/tree``), optionally recursive."""
        return [
            TreeEntry.model_validate(item)
            async for item in self.paginate(
                REPO + "/tree",
                {"path": path, "ref": ref, "recursive": recursive},
                path_params={"project": project},
                operation="repository.tree",
                max_pages=max_pages,
            )
        ]

    async def compare(
        self, project: ProjectRef, from_ref: str, to_ref: str, *, straight: bool = False
    ) -> Compare:
        """Commits and diffs between two refs (``GET .../repository/compare``)."""
        call = self.api_call(
            "GET",
            REPO + "/compare",
            operation="repository.compare",
            path_params={"project": project},
            params={"from": from_ref, "to": to_ref, "straight": straight},
        )
        return Compare.model_validate(await self.json(call))
