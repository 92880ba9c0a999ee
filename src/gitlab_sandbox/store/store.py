"""The in-memory store: every record of the sandbox, id sequences and per-project write locks.

All mutations happen on the server's event loop; a project's ``asyncio.Lock`` serialises the
writes that span an ``await`` (git work in a thread), so a merge and a rebase of the same
project never interleave.
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import unquote

from gitlab_sandbox.store.models import (
    AccessLevel,
    AccessToken,
    Group,
    LfsLock,
    MergeRequest,
    Pipeline,
    Project,
    ProtectedBranch,
    User,
)
from gitlab_sandbox.store.tokens import hash_token


class Store:
    """Users, tokens, projects, merge requests, pipelines and LFS locks of one sandbox."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.tokens: dict[int, AccessToken] = {}
        self.tokens_by_hash: dict[str, AccessToken] = {}
        self.projects: dict[int, Project] = {}
        self.namespaces: dict[str, int] = {}
        self.groups: dict[int, Group] = {}
        self.merge_requests: dict[int, MergeRequest] = {}
        self.pipelines: dict[int, Pipeline] = {}
        self.lfs_locks: dict[int, LfsLock] = {}
        self._sequences: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._project_locks: dict[int, asyncio.Lock] = {}

    def next_id(self, kind: str) -> int:
        """The next id of a kind ("user", "mr", "note", ...), starting at 1."""
        return next(self._sequences[kind])

    def project_lock(self, project_id: int) -> asyncio.Lock:
        """The lock serialising writes to one project (created on first use)."""
        lock = self._project_locks.get(project_id)
        if lock is None:
            lock = self._project_locks[project_id] = asyncio.Lock()
        return lock

    # users and tokens -------------------------------------------------------------------
    def add_user(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def user_by_username(self, username: str) -> User | None:
        lowered = username.lower()
        return next((u for u in self.users.values() if u.username.lower() == lowered), None)

    def add_token(self, token: AccessToken) -> AccessToken:
        self.tokens[token.id] = token
        self.tokens_by_hash[token.token_sha256] = token
        return token

    def token_by_value(self, value: str) -> AccessToken | None:
        """The token whose SHA-256 matches ``value`` (the raw token is never stored)."""
        return self.tokens_by_hash.get(hash_token(value))

    # projects ---------------------------------------------------------------------------
    def add_project(self, project: Project) -> Project:
        self.projects[project.id] = project
        return project

    def namespace_id(self, namespace: str) -> int:
        """A stable id for a namespace path (groups and user namespaces share the sequence)."""
        if namespace not in self.namespaces:
            self.namespaces[namespace] = self.next_id("namespace")
        return self.namespaces[namespace]

    # groups -------------------------------------------------------------------------------
    def add_group(self, group: Group) -> Group:
        self.groups[group.id] = group
        return group

    def group_by_ref(self, ref: str | int) -> Group | None:
        """A group by numeric id or by (url-encoded) full path."""
        text = unquote(str(ref))
        if text.isdigit():
            return self.groups.get(int(text))
        lowered = text.strip("/").lower()
        return next((g for g in self.groups.values() if g.full_path.lower() == lowered), None)

    def group_ancestors(self, group: Group) -> list[Group]:
        """The group and its parents, nearest first."""
        chain = [group]
        while chain[-1].parent_id is not None and chain[-1].parent_id in self.groups:
            chain.append(self.groups[chain[-1].parent_id])
        return chain

    def group_membership(self, group: Group, user: User) -> int:
        """The user's access level in the group, direct or inherited from a parent group
        (GitLab: members of a group are members of its subgroups); admins are not members."""
        return max(
            (g.members.get(user.id, AccessLevel.NO_ACCESS) for g in self.group_ancestors(group)),
            default=AccessLevel.NO_ACCESS,
        )

    def project_by_ref(self, ref: str | int) -> Project | None:
        """A project by numeric id or by (url-encoded) ``namespace/path``."""
        text = unquote(str(ref))
        if text.isdigit():
            return self.projects.get(int(text))
        lowered = text.strip("/").lower()
        return next(
            (p for p in self.projects.values() if p.path_with_namespace.lower() == lowered), None
        )

    def access_level(self, project: Project, user: User) -> int:
        """The user's effective access level on a project (admins count as owners)."""
        if user.is_admin:
            return max(project.members.get(user.id, 0), AccessLevel.OWNER)
        return project.members.get(user.id, AccessLevel.NO_ACCESS)

    @staticmethod
    def protection_for(project: Project, branch: str) -> ProtectedBranch | None:
        """The protected-branch rule covering ``branch``, exact names first."""
        for rule in project.protected_branches:
            if rule.name == branch:
                return rule
        for rule in project.protected_branches:
            if fnmatch.fnmatchcase(branch, rule.name):
                return rule
        return None

    # merge requests ---------------------------------------------------------------------
    def add_merge_request(self, mr: MergeRequest) -> MergeRequest:
        self.merge_requests[mr.id] = mr
        return mr

    def next_mr_iid(self, project_id: int) -> int:
        return self.next_id(f"mr-iid-{project_id}")

    def project_merge_requests(self, project_id: int) -> list[MergeRequest]:
        return [mr for mr in self.merge_requests.values() if mr.target_project_id == project_id]

    def merge_request(self, project_id: int, iid: int) -> MergeRequest | None:
        return next(
            (
                mr
                for mr in self.merge_requests.values()
                if mr.target_project_id == project_id and mr.iid == iid
            ),
            None,
        )

    def open_merge_requests(self, project_id: int) -> list[MergeRequest]:
        return [mr for mr in self.project_merge_requests(project_id) if mr.state == "opened"]

    # pipelines --------------------------------------------------------------------------
    def add_pipeline(self, pipeline: Pipeline) -> Pipeline:
        self.pipelines[pipeline.id] = pipeline
        return pipeline

    def project_pipelines(self, project_id: int) -> list[Pipeline]:
        return [p for p in self.pipelines.values() if p.project_id == project_id]

    def latest_pipeline(
        self, project_id: int, sha: str | None, ref: str | None = None
    ) -> Pipeline | None:
        """The newest pipeline of ``sha`` (optionally on ``ref``), as GitLab's head pipeline."""
        if sha is None:
            return None
        found = [
            p
            for p in self.pipelines.values()
            if p.project_id == project_id and p.sha == sha and (ref is None or p.ref == ref)
        ]
        return max(found, key=lambda p: p.id, default=None)

    def pipeline_for_mr(self, mr: MergeRequest) -> Pipeline | None:
        """The MR's head pipeline: of the pipelines of its head on its branch or MR refs, a
        merged results one (whose ``sha`` is a merge commit) included, as GitLab's
        ``all_pipelines.for_sha_or_source_sha(diff_head_sha).first``: merge request pipelines
        before branch pipelines, then the newest (``PipelinesForMergeRequestFinder#sort``)."""
        refs = {
            mr.source_branch,
            f"refs/merge-requests/{mr.iid}/head",
            f"refs/merge-requests/{mr.iid}/merge",
        }
        found = [
            p
            for p in self.pipelines.values()
            if p.project_id == mr.source_project_id
            and mr.sha in (p.sha, p.source_sha)
            and p.ref in refs
        ]
        return max(found, key=mr_pipeline_order, default=None)

    def touch(self, project: Project, when: datetime) -> None:
        project.last_activity_at = when


def mr_pipeline_order(pipeline: Pipeline) -> tuple[bool, int]:
    """GitLab's order of an MR's pipelines, largest first (``Ci::PipelinesForMergeRequestFinder
    #sort``): ``merge_request_event`` pipelines before the others, then the newest."""
    return pipeline.source == "merge_request_event", pipeline.id
