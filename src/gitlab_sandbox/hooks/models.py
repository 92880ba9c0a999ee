"""Plain inputs for the webhook payload builders, mirroring GitLab's hook attributes.

The lead converts its store's objects into these; the builders never touch the store.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HookUser:
    """A user as hooks show them (`email` is "[REDACTED]" without a public email)."""

    id: int
    name: str
    username: str
    email: str = "[REDACTED]"
    avatar_url: str | None = None


@dataclass(frozen=True)
class HookProject:
    """A project; the git URLs are derived from ``web_url`` as GitLab does."""

    id: int
    name: str
    path_with_namespace: str
    web_url: str
    namespace: str = ""
    description: str = ""
    default_branch: str = "main"
    visibility_level: int = 0  # 0 private, 10 internal, 20 public
    avatar_url: str | None = None
    ci_config_path: str | None = None

    @property
    def git_http_url(self) -> str:
        """Clone URL over HTTP."""
        return f"{self.web_url}.git"

    @property
    def git_ssh_url(self) -> str:
        """Clone URL over SSH (the sandbox serves HTTP only, but payloads carry both)."""
        host = urlsplit(self.web_url).hostname or "localhost"
        return f"git@{host}:{self.path_with_namespace}.git"


@dataclass(frozen=True)
class HookLabel:
    """A label with GitLab's hook attributes."""

    id: int
    title: str
    color: str = "#6699cc"
    project_id: int | None = None
    description: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    type: str = "ProjectLabel"
    group_id: int | None = None

    @classmethod
    def named(cls, title: str, project_id: int | None = None) -> HookLabel:
        """A label known only by its title, with a stable id derived from it."""
        return cls(
            id=zlib.crc32(f"{project_id}:{title}".encode()) % 10**9 + 1,
            title=title,
            project_id=project_id,
        )


@dataclass(frozen=True)
class HookCommit:
    """A commit as push, merge request and pipeline hooks show it."""

    id: str
    message: str
    timestamp: datetime
    url: str
    author_name: str
    author_email: str
    title: str | None = None  # the message's first line when None
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class HookMergeRequest:
    """A merge request's state at one moment (pass the state before a change as `previous`)."""

    id: int
    iid: int
    title: str
    source_branch: str
    target_branch: str
    source_project_id: int
    target_project_id: int
    author_id: int
    state: str = "opened"  # opened | closed | merged | locked
    description: str = ""
    draft: bool = False
    url: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    merge_status: str = "unchecked"
    detailed_merge_status: str = "checking"
    assignees: tuple[HookUser, ...] = ()
    reviewers: tuple[HookUser, ...] = ()
    labels: tuple[HookLabel | str, ...] = ()
    last_commit: HookCommit | None = None
    merge_commit_sha: str | None = None
    head_pipeline_id: int | None = None
    blocking_discussions_resolved: bool = True
    merge_user_id: int | None = None
    merge_when_pipeline_succeeds: bool = False
    last_edited_at: datetime | None = None
    last_edited_by_id: int | None = None
    updated_by_id: int | None = None
    milestone_id: int | None = None
    time_estimate: int = 0
    total_time_spent: int = 0


@dataclass(frozen=True)
class HookBuild:
    """One job of a pipeline as the pipeline hook's ``builds`` show it."""

    id: int
    name: str
    stage: str
    status: str
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    queued_duration: float | None = None
    failure_reason: str | None = None
    when: str = "on_success"
    manual: bool = False
    allow_failure: bool = False
    user: HookUser | None = None


@dataclass(frozen=True)
class HookPipeline:
    """A pipeline's state for the pipeline hook."""

    id: int
    iid: int
    ref: str
    sha: str
    status: str
    source: str = "push"  # push | merge_request_event | web | api | ...
    before_sha: str = "0" * 40
    tag: bool = False
    detailed_status: str | None = None
    stages: tuple[str, ...] = ("test",)
    created_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    queued_duration: float | None = None
    url: str = ""
    name: str | None = None
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HookNote:
    """A comment for the note hook."""

    id: int
    note: str
    noteable_type: str  # MergeRequest | Commit | Issue | Snippet
    author_id: int
    project_id: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    noteable_id: int | None = None
    commit_id: str = ""
    system: bool = False
    action: str = "create"  # create | update
    url: str = ""
    discussion_id: str | None = None
    type: str | None = None  # None | "DiscussionNote" | "DiffNote"
    resolvable: bool = False
    resolved: bool = False


@dataclass(frozen=True)
class HookPush:
    """A branch update for the push hook (commits oldest first; zeros for create/delete)."""

    before: str
    after: str
    ref: str  # refs/heads/<branch>
    ref_protected: bool = False
    commits: tuple[HookCommit, ...] = ()
    total_commits_count: int | None = None  # len(commits) when None
    checkout_sha: str | None = None  # `after` unless the branch was deleted
    message: str | None = None

    @property
    def branch_deleted(self) -> bool:
        """True when the push removed the branch."""
        return self.after == ZERO_SHA


ZERO_SHA = "0" * 40

__all__ = [
    "ZERO_SHA",
    "HookBuild",
    "HookCommit",
    "HookLabel",
    "HookMergeRequest",
    "HookNote",
    "HookPipeline",
    "HookProject",
    "HookPush",
    "HookUser",
]
