"""Mergeability: GitLab's ``detailed_merge_status`` and the merge API's refusals (pure logic).

The checks run in GitLab's order (``MergeRequests::Mergeability::DetailedMergeStatusService``
and ``MergeRequest.all_mergeability_checks``, GitLab 17/18): open, the transient states, draft,
commits, discussions, approvals and requested changes, locked paths and LFS files, then the git
checks (conflict, need_rebase) and CI last. The first failing one names the status.
``refusal`` maps it to the answer of ``PUT /merge_requests/:iid/merge``
(``lib/api/merge_requests.rb``): 405 for any MR that is not mergeable.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE_PIPELINE_STATUSES = frozenset(
    {"created", "waiting_for_resource", "preparing", "pending", "running", "scheduled"}
)


@dataclass(frozen=True)
class MergeFacts:
    """What mergeability depends on, gathered from the store and the repository."""

    state: str  # opened | closed | merged | locked
    checking: bool  # inside the asynchronous re-check window after a change
    draft: bool
    source_exists: bool
    has_commits: bool
    has_conflicts: bool
    needs_rebase: bool  # merge method rebase_merge/ff and the target is not in the source
    discussions_resolved: bool
    discussions_required: bool  # only_allow_merge_if_all_discussions_are_resolved
    approvals_left: int
    pipeline_required: bool  # only_allow_merge_if_pipeline_succeeds
    pipeline_status: str | None  # the head pipeline's status, None when there is none
    skipped_pipeline_allowed: bool = False
    preparing: bool = False  # the MR's diff is still being prepared (right after creation)
    unchecked: bool = False  # changed, and nobody asked for a check yet
    approvals_syncing: bool = False  # approval rules are being recomputed after a change
    requested_changes: bool = False  # a reviewer requested changes (blocks on Premium+)
    locked_paths: bool = False  # a changed path is locked by someone else (file locking)
    locked_lfs_files: bool = False  # a changed LFS file is locked by someone else


# The transient statuses: GitLab has not finished looking (never a refusal).
TRANSIENT_STATUSES = frozenset({"unchecked", "checking", "preparing", "approvals_syncing"})


def detailed_merge_status(facts: MergeFacts) -> str:
    """GitLab's ``detailed_merge_status`` for these facts."""
    if facts.state != "opened":
        return "not_open"
    transient = _transient_status(facts)
    if transient is not None:
        return transient
    return _state_check(facts) or _git_check(facts) or ci_status(facts) or "mergeable"


def _transient_status(facts: MergeFacts) -> str | None:
    if facts.preparing:
        return "preparing"
    if facts.checking:
        return "checking"
    if facts.unchecked:
        return "unchecked"
    if facts.approvals_syncing:
        return "approvals_syncing"
    return None


def _state_check(facts: MergeFacts) -> str | None:
    """The mergeable-state checks, in GitLab's order, before the git checks."""
    checks = (
        (facts.draft, "draft_status"),
        (not facts.source_exists or not facts.has_commits, "commits_status"),
        (facts.discussions_required and not facts.discussions_resolved, "discussions_not_resolved"),
        (facts.approvals_left > 0, "not_approved"),
        (facts.requested_changes, "requested_changes"),
        (facts.locked_paths, "locked_paths"),
        (facts.locked_lfs_files, "locked_lfs_files"),
    )
    return next((status for failed, status in checks if failed), None)


def _git_check(facts: MergeFacts) -> str | None:
    if facts.has_conflicts:
        return "conflict"
    if facts.needs_rebase:
        return "need_rebase"
    return None


def ci_status(facts: MergeFacts) -> str | None:
    """``ci_must_pass``/``ci_still_running`` when the pipeline blocks the merge, else None."""
    if not facts.pipeline_required:
        return None
    status = facts.pipeline_status
    if status == "success":
        return None
    if status == "skipped" and facts.skipped_pipeline_allowed:
        return None
    if status in ACTIVE_PIPELINE_STATUSES:
        return "ci_still_running"
    return "ci_must_pass"


def merge_status(facts: MergeFacts) -> str:
    """The deprecated ``merge_status``: only whether git can merge the branches."""
    if facts.checking:
        return "checking"
    if facts.unchecked:
        return "unchecked"
    if facts.state != "opened":
        return "can_be_merged" if not facts.has_conflicts else "cannot_be_merged"
    if facts.has_conflicts or not facts.source_exists:
        return "cannot_be_merged"
    return "can_be_merged"


@dataclass(frozen=True)
class MergeRefusal:
    """An HTTP refusal of the merge API: status code and GitLab's message."""

    status_code: int
    message: str


NOT_ALLOWED = MergeRefusal(405, "405 Method Not Allowed")
MERGE_FAILED = MergeRefusal(422, "Branch cannot be merged")


def refusal(status: str, *, auto_merge: bool) -> MergeRefusal | None:
    """How the merge API refuses an MR in ``status``: 405 for every MR that is not mergeable
    (conflict and need_rebase included; GitLab 16+ no longer answers 406); ``None`` when it may
    merge, or, with ``auto_merge``, be set to merge when its checks pass: GitLab 17's
    ``MergeWhenChecksPassService`` is available for any open MR that is not mergeable yet."""
    if status == "mergeable" or status in TRANSIENT_STATUSES:
        return None
    if auto_merge and status != "not_open":
        return None
    return NOT_ALLOWED


def sha_mismatch_message(head_sha: str | None) -> str:
    """GitLab's message when the ``sha`` parameter is not the source branch head."""
    return f"SHA does not match HEAD of source branch: {head_sha}"
