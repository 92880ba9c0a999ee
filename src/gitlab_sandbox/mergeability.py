"""Mergeability: GitLab's ``detailed_merge_status`` and the merge API's refusals (pure logic).

The checks run in GitLab's order; the first failing one names the status. ``refusal`` maps the
status to the HTTP answer of ``PUT /merge_requests/:iid/merge``.
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


def detailed_merge_status(facts: MergeFacts) -> str:
    """GitLab's ``detailed_merge_status`` for these facts."""
    if facts.state != "opened":
        return "not_open"
    if facts.checking:
        return "checking"
    if facts.draft:
        return "draft_status"
    if not facts.source_exists or not facts.has_commits:
        return "broken_status"
    if facts.has_conflicts:
        return "conflict"
    if facts.needs_rebase:
        return "need_rebase"
    if facts.discussions_required and not facts.discussions_resolved:
        return "discussions_not_resolved"
    if facts.approvals_left > 0:
        return "not_approved"
    return ci_status(facts) or "mergeable"


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
CANNOT_MERGE = MergeRefusal(406, "Branch cannot be merged")


def refusal(status: str, *, auto_merge: bool) -> MergeRefusal | None:
    """How the merge API refuses an MR in ``status``; ``None`` when it may merge (or be set to
    merge automatically when ``auto_merge`` and only CI is pending)."""
    if status in ("mergeable", "checking", "unchecked"):
        return None
    if status in ("conflict", "need_rebase", "broken_status"):
        return CANNOT_MERGE
    if auto_merge and status == "ci_still_running":
        return None
    return NOT_ALLOWED


def sha_mismatch_message(head_sha: str | None) -> str:
    """GitLab's message when the ``sha`` parameter is not the source branch head."""
    return f"SHA does not match HEAD of source branch: {head_sha}"
