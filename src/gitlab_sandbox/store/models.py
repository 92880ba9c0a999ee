"""The sandbox's records: plain dataclasses held in memory by the ``Store``.

Field names follow GitLab's so rendering stays a thin mapping. Times are aware UTC datetimes
taken from the ``SandboxClock`` (simulated time), never from the wall clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from gitlab_sandbox.ci.pipeline import PipelineRun
from gitlab_sandbox.hooks.health import HookHealth


class AccessLevel(enum.IntEnum):
    """GitLab's member access levels."""

    NO_ACCESS = 0
    MINIMAL = 5
    GUEST = 10
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50
    ADMIN = 60


@dataclass
class User:
    id: int
    username: str
    name: str
    email: str
    state: str = "active"
    bot: bool = False
    is_admin: bool = False
    created_at: datetime | None = None


@dataclass
class AccessToken:
    """A personal access token; only the SHA-256 of its value is kept."""

    id: int
    name: str
    user_id: int
    token_sha256: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None = None
    revoked: bool = False
    last_used_at: datetime | None = None


@dataclass
class ProtectedBranch:
    id: int
    name: str  # a branch name or a wildcard such as "release/*"
    push_access_level: int = AccessLevel.MAINTAINER
    merge_access_level: int = AccessLevel.MAINTAINER
    allow_force_push: bool = False


@dataclass
class ProjectHook:
    id: int
    url: str
    token: str | None
    push_events: bool = True
    merge_requests_events: bool = False
    pipeline_events: bool = False
    note_events: bool = False
    job_events: bool = False
    enable_ssl_verification: bool = True
    created_at: datetime | None = None
    health: HookHealth = field(default_factory=HookHealth)  # GitLab's auto-disabling


@dataclass
class Label:
    id: int
    name: str
    color: str = "#6699cc"
    description: str | None = None


@dataclass
class ProjectSettings:
    """The project settings that matter to merging."""

    merge_method: str = "merge"  # merge | rebase_merge | ff
    only_allow_merge_if_pipeline_succeeds: bool = False
    only_allow_merge_if_all_discussions_are_resolved: bool = False
    allow_merge_on_skipped_pipeline: bool = False
    squash_option: str = "default_off"  # never | always | default_on | default_off
    approvals_before_merge: int = 0
    reset_approvals_on_push: bool = True
    remove_source_branch_after_merge: bool = True
    merge_commit_template: str | None = None
    squash_commit_template: str | None = None
    # Merged results pipelines (EE ``merge_pipelines_enabled``): an MR's pipelines test the
    # merge of its head into the target (``refs/merge-requests/:iid/merge``). Off by default.
    merge_pipelines_enabled: bool = False


@dataclass
class Group:
    """A group (or subgroup); its id is the namespace id of ``full_path``."""

    id: int
    name: str
    path: str
    full_path: str  # e.g. "acme" or "acme/cnc"
    parent_id: int | None = None
    visibility: str = "private"
    description: str = ""
    created_at: datetime | None = None
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level (direct)


@dataclass
class Project:
    id: int
    name: str
    path: str
    namespace: str  # full namespace path, e.g. "acme" or "acme/team"
    namespace_id: int
    creator_id: int
    default_branch: str = "main"
    description: str = ""
    visibility: str = "private"
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    members: dict[int, int] = field(default_factory=dict)  # user id -> access level
    protected_branches: list[ProtectedBranch] = field(default_factory=list)
    hooks: list[ProjectHook] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)

    @property
    def path_with_namespace(self) -> str:
        return f"{self.namespace}/{self.path}"


@dataclass
class Note:
    id: int
    body: str
    author_id: int
    created_at: datetime
    updated_at: datetime
    system: bool = False
    resolvable: bool = False
    resolved: bool = False
    resolved_by_id: int | None = None
    resolved_at: datetime | None = None
    discussion_id: str = ""
    type: str | None = None  # None for plain notes, "DiscussionNote" in threads


@dataclass
class Discussion:
    id: str  # 40 hex characters, as GitLab
    individual_note: bool
    notes: list[Note] = field(default_factory=list)

    @property
    def resolvable(self) -> bool:
        return any(note.resolvable for note in self.notes)

    @property
    def resolved(self) -> bool:
        return all(note.resolved for note in self.notes if note.resolvable)


@dataclass
class Approval:
    user_id: int
    created_at: datetime


@dataclass(frozen=True)
class BranchFacts:
    """What git says about an MR's branches, cached per (target tip, source tip)."""

    target_sha: str | None
    source_sha: str | None
    merge_base: str | None
    has_conflicts: bool
    target_in_source: bool  # the source already contains the target (no rebase needed)
    commits_count: int
    changes_count: int = 0


@dataclass(frozen=True)
class DiffVersion:
    """One version of an MR's diff (GitLab makes one per new head)."""

    id: int
    head_commit_sha: str
    base_commit_sha: str | None
    start_commit_sha: str | None
    created_at: datetime


@dataclass
class MergeRequest:
    id: int
    iid: int
    project_id: int
    title: str
    description: str
    source_branch: str
    target_branch: str
    source_project_id: int
    target_project_id: int
    author_id: int
    created_at: datetime
    updated_at: datetime
    sha: str | None  # head of the source branch
    base_sha: str | None  # merge base when the diff was computed
    start_sha: str | None  # target tip when the diff was computed
    assignee_ids: list[int] = field(default_factory=list)
    reviewer_ids: list[int] = field(default_factory=list)
    # A reviewer's state (``MergeRequestReviewer#state``): unreviewed (absent), review_started,
    # reviewed, requested_changes, approved, unapproved.
    reviewer_states: dict[int, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    state: str = "opened"  # opened | closed | merged | locked
    merge_commit_sha: str | None = None
    squash_commit_sha: str | None = None
    squash: bool = False
    should_remove_source_branch: bool | None = None
    force_remove_source_branch: bool = False
    discussions: list[Discussion] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    merge_when_pipeline_succeeds: bool = False
    merge_params: dict[str, object] = field(default_factory=dict)
    merge_error: str | None = None
    rebase_in_progress: bool = False
    # The head GitLab's own rebase produced: pushing it does not reset approvals (EE's
    # ResetApprovalsService skips ``newrev == rebase_commit_sha``).
    rebase_commit_sha: str | None = None
    merged_by_id: int | None = None
    merge_user_id: int | None = None
    merged_at: datetime | None = None
    closed_by_id: int | None = None
    closed_at: datetime | None = None
    # Mergeability is computed asynchronously, as GitLab does: until ``checking_until``
    # (simulated monotonic seconds) the MR reads "checking".
    checking_until: float = 0.0
    # With the ``asynchronous`` option: no check asked for since the last change ("unchecked"
    # until a GET of the MR asks), and the other transient windows.
    check_requested: bool = True
    preparing_until: float = 0.0
    approvals_syncing_until: float = 0.0
    facts: BranchFacts | None = None
    versions: list[DiffVersion] = field(default_factory=list)

    @property
    def has_conflicts(self) -> bool:
        return self.facts is not None and self.facts.has_conflicts

    @property
    def draft(self) -> bool:
        return is_draft_title(self.title)

    def all_notes(self) -> list[Note]:
        return [note for discussion in self.discussions for note in discussion.notes]


# GitLab 16+ (``Gitlab::Regex::MergeRequests#merge_request_draft``):
# ``/\A(?i)(\[draft\]|\(draft\)|draft:)/``; ``WIP:``, ``[WIP]`` and ``Draft -`` no longer count.
DRAFT_PREFIXES = ("draft:", "[draft]", "(draft)")


def is_draft_title(title: str) -> bool:
    """Whether GitLab would read this MR title as a draft (GitLab strips titles on save)."""
    return title.strip().lower().startswith(DRAFT_PREFIXES)


@dataclass
class Pipeline:
    """GitLab's pipeline record; ``run`` is what the CI simulator drives (status, jobs)."""

    id: int
    iid: int
    project_id: int
    sha: str
    ref: str
    source: str  # push | merge_request_event | api | web
    user_id: int | None
    created_at: datetime
    run: PipelineRun
    before_sha: str = "0" * 40
    merge_request_iid: int | None = None
    updated_at: datetime | None = None
    # A merged results pipeline tests a merge commit (``sha``) of these two heads.
    source_sha: str | None = None
    target_sha: str | None = None

    @property
    def status(self) -> str:
        return self.run.status.value


@dataclass
class LfsLock:
    id: int
    project_id: int
    path: str
    owner_id: int
    locked_at: datetime
