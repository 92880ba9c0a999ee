"""Typed views of GitLab REST API v4 resources (field names as GitLab spells them).

Every model ignores fields it does not name, and almost every field is optional: GitLab adds
and drops fields between versions and editions, and a missing optional field must never make a
merge request unreadable.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class GitLabModel(BaseModel):
    """Base of every GitLab resource: unknown fields ignored, instances immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class User(GitLabModel):
    """A user (the full ``/user`` shape or the short form embedded in other resources)."""

    id: int
    username: str
    name: str = ""
    state: str | None = None
    avatar_url: str | None = None
    web_url: str | None = None
    email: str | None = None
    public_email: str | None = None
    bot: bool = False
    is_admin: bool | None = None
    locked: bool | None = None
    created_at: datetime | None = None


class ProjectMember(User):
    """A member of a project with its role (``access_level``: 30 Developer, 40 Maintainer,
    50 Owner), inherited from a group or direct (``/projects/:id/members/all``)."""

    access_level: int = 0
    expires_at: date | None = None


class Group(GitLabModel):
    """A group or subgroup (``GET /groups``)."""

    id: int
    full_path: str
    name: str = ""
    path: str = ""
    parent_id: int | None = None
    visibility: str | None = None
    web_url: str | None = None


class Namespace(GitLabModel):
    id: int
    name: str = ""
    path: str = ""
    kind: str | None = None
    full_path: str | None = None


class Project(GitLabModel):
    """A project; ``path_with_namespace`` is also the web path used by Git and Git LFS."""

    id: int
    name: str = ""
    path: str = ""
    path_with_namespace: str
    namespace: Namespace | None = None
    default_branch: str | None = None
    description: str | None = None
    web_url: str | None = None
    http_url_to_repo: str | None = None
    ssh_url_to_repo: str | None = None
    visibility: str | None = None
    archived: bool = False
    merge_method: str | None = None
    squash_option: str | None = None
    only_allow_merge_if_pipeline_succeeds: bool | None = None
    only_allow_merge_if_all_discussions_are_resolved: bool | None = None
    remove_source_branch_after_merge: bool | None = None
    lfs_enabled: bool | None = None
    last_activity_at: datetime | None = None


class PipelineRef(GitLabModel):
    """The short pipeline embedded in a merge request (``head_pipeline``) or a job."""

    id: int
    iid: int | None = None
    project_id: int | None = None
    sha: str | None = None
    ref: str | None = None
    status: str | None = None
    source: str | None = None
    web_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Pipeline(PipelineRef):
    """A pipeline; ``status`` is created/pending/running/success/failed/canceled/skipped/..."""

    before_sha: str | None = None
    tag: bool | None = None
    user: User | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    queued_duration: float | None = None
    coverage: str | None = None


class Job(GitLabModel):
    id: int
    name: str = ""
    stage: str | None = None
    status: str | None = None
    ref: str | None = None
    allow_failure: bool = False
    failure_reason: str | None = None
    web_url: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    pipeline: PipelineRef | None = None


class DiffRefs(GitLabModel):
    base_sha: str | None = None
    head_sha: str | None = None
    start_sha: str | None = None


class References(GitLabModel):
    short: str | None = None
    relative: str | None = None
    full: str | None = None


class MergeRequest(GitLabModel):
    """A merge request. Read ``detailed_merge_status``; ``merge_status`` is deprecated."""

    id: int
    iid: int
    project_id: int
    title: str = ""
    description: str | None = None
    state: str = "opened"
    draft: bool = False
    work_in_progress: bool | None = None
    source_branch: str
    target_branch: str
    source_project_id: int | None = None
    target_project_id: int | None = None
    sha: str | None = None
    merge_commit_sha: str | None = None
    squash_commit_sha: str | None = None
    squash: bool | None = None
    detailed_merge_status: str | None = None
    merge_status: str | None = None
    has_conflicts: bool = False
    blocking_discussions_resolved: bool = True
    author: User | None = None
    assignees: list[User] = Field(default_factory=list)
    reviewers: list[User] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    web_url: str | None = None
    head_pipeline: PipelineRef | None = None
    diff_refs: DiffRefs | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    merged_at: datetime | None = None
    merge_error: str | None = None
    rebase_in_progress: bool | None = None
    user_notes_count: int = 0
    references: References | None = None
    should_remove_source_branch: bool | None = None
    force_remove_source_branch: bool | None = None

    def involves(self, user_id: int) -> bool:
        """Whether the user is among the assignees or the reviewers."""
        return any(u.id == user_id for u in (*self.assignees, *self.reviewers))


class Note(GitLabModel):
    id: int
    body: str = ""
    author: User | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    system: bool = False
    type: str | None = None
    noteable_type: str | None = None
    noteable_iid: int | None = None
    resolvable: bool = False
    resolved: bool | None = None
    resolved_by: User | None = None


class Discussion(GitLabModel):
    id: str
    individual_note: bool = False
    notes: list[Note] = Field(default_factory=list)

    @property
    def unresolved(self) -> bool:
        """A resolvable note in this thread is not resolved yet."""
        return any(n.resolvable and not n.resolved for n in self.notes)


class Approver(GitLabModel):
    user: User


class Approvals(GitLabModel):
    """Approval state of a merge request (the approvals endpoint)."""

    approved: bool = False
    approvals_required: int | None = None
    approvals_left: int = 0
    approved_by: list[Approver] = Field(default_factory=list)

    @property
    def approver_usernames(self) -> list[str]:
        return [a.user.username for a in self.approved_by]


class CommitStats(GitLabModel):
    additions: int = 0
    deletions: int = 0
    total: int = 0


class Commit(GitLabModel):
    id: str
    short_id: str | None = None
    title: str = ""
    message: str = ""
    author_name: str | None = None
    author_email: str | None = None
    authored_date: datetime | None = None
    committer_name: str | None = None
    committer_email: str | None = None
    committed_date: datetime | None = None
    created_at: datetime | None = None
    parent_ids: list[str] = Field(default_factory=list)
    web_url: str | None = None
    stats: CommitStats | None = None
    last_pipeline: PipelineRef | None = None


class CommitRef(GitLabModel):
    """A branch or tag that contains a commit."""

    type: Literal["branch", "tag"] | str
    name: str


class Branch(GitLabModel):
    name: str
    commit: Commit | None = None
    merged: bool = False
    protected: bool = False
    default: bool = False
    developers_can_push: bool = False
    developers_can_merge: bool = False
    can_push: bool = False
    web_url: str | None = None


class Diff(GitLabModel):
    old_path: str
    new_path: str
    a_mode: str | None = None
    b_mode: str | None = None
    diff: str = ""
    new_file: bool = False
    renamed_file: bool = False
    deleted_file: bool = False
    generated_file: bool | None = None


class Compare(GitLabModel):
    commit: Commit | None = None
    commits: list[Commit] = Field(default_factory=list)
    diffs: list[Diff] = Field(default_factory=list)
    compare_timeout: bool = False
    compare_same_ref: bool = False
    web_url: str | None = None


class RepositoryFile(GitLabModel):
    """A file at a ref, with its content (``encoding`` is ``base64`` from GitLab)."""

    file_name: str
    file_path: str
    size: int = 0
    encoding: str = "base64"
    content: str = ""
    content_sha256: str | None = None
    ref: str | None = None
    blob_id: str | None = None
    commit_id: str | None = None
    last_commit_id: str | None = None
    execute_filemode: bool = False

    def decoded(self) -> bytes:
        """The file's bytes."""
        if self.encoding == "base64":
            return base64.b64decode(self.content)
        return self.content.encode("utf-8")


class RepositoryFileMetadata(GitLabModel):
    """A file at a ref without its content (``HEAD .../repository/files/:path`` headers)."""

    file_name: str
    file_path: str
    size: int
    content_sha256: str | None = None
    blob_id: str | None = None
    commit_id: str | None = None
    last_commit_id: str | None = None
    ref: str | None = None
    execute_filemode: bool = False

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RepositoryFileMetadata:
        """Read GitLab's ``X-Gitlab-*`` headers (any case)."""
        lowered = {key.lower(): value for key, value in headers.items()}
        fields = {
            name: lowered[f"x-gitlab-{name.replace('_', '-')}"]
            for name in cls.model_fields
            if f"x-gitlab-{name.replace('_', '-')}" in lowered
        }
        return cls.model_validate(fields)


class TreeEntry(GitLabModel):
    id: str
    name: str
    type: Literal["blob", "tree", "commit"] | str
    path: str
    mode: str | None = None


class Hook(GitLabModel):
    """A project webhook (the secret ``token`` is write-only and never returned)."""

    id: int
    url: str
    project_id: int | None = None
    push_events: bool = False
    merge_requests_events: bool = False
    pipeline_events: bool = False
    note_events: bool = False
    job_events: bool = False
    tag_push_events: bool = False
    issues_events: bool = False
    enable_ssl_verification: bool = True
    push_events_branch_filter: str | None = None
    created_at: datetime | None = None
    # GitLab 15.7+ (auto-disabling, 17.x): executable | temporarily_disabled | disabled;
    # None from a GitLab that does not say.
    alert_status: str | None = None
    disabled_until: datetime | None = None


class PersonalAccessToken(GitLabModel):
    """The token itself (``/personal_access_tokens/self``): scopes and expiry, never its value."""

    id: int
    name: str = ""
    revoked: bool = False
    active: bool = True
    scopes: list[str] = Field(default_factory=list)
    user_id: int | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    expires_at: date | None = None


class Label(GitLabModel):
    id: int
    name: str
    color: str | None = None
    description: str | None = None
    text_color: str | None = None


class LfsLockOwner(GitLabModel):
    name: str


class LfsLock(GitLabModel):
    """A Git LFS file lock (``id`` is a string in the LFS API)."""

    id: str
    path: str
    locked_at: datetime | None = None
    owner: LfsLockOwner | None = None


class LfsLockVerification(GitLabModel):
    """Locks on the ref split into the caller's own (``ours``) and everyone else's."""

    ours: list[LfsLock] = Field(default_factory=list)
    theirs: list[LfsLock] = Field(default_factory=list)


class Version(GitLabModel):
    version: str
    revision: str | None = None
    enterprise: bool | None = None


class CommitAction(GitLabModel):
    """One file change of ``create_commit`` (``POST /repository/commits`` ``actions[]``)."""

    action: Literal["create", "delete", "move", "update", "chmod"]
    file_path: str
    previous_path: str | None = None
    content: str | None = None
    encoding: Literal["text", "base64"] | None = None
    last_commit_id: str | None = None
    execute_filemode: bool | None = None

    @classmethod
    def with_bytes(
        cls,
        action: Literal["create", "update"],
        file_path: str,
        content: bytes,
        *,
        last_commit_id: str | None = None,
    ) -> CommitAction:
        """A create/update carrying binary content (sent base64-encoded)."""
        return cls(
            action=action,
            file_path=file_path,
            content=base64.b64encode(content).decode("ascii"),
            encoding="base64",
            last_commit_id=last_commit_id,
        )

    def as_payload(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)
