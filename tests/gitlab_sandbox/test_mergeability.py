"""GitLab's detailed_merge_status and the merge API's refusals (pure)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from gitlab_sandbox.mergeability import (
    MergeFacts,
    detailed_merge_status,
    merge_status,
    refusal,
)

READY = MergeFacts(
    state="opened",
    checking=False,
    draft=False,
    source_exists=True,
    has_commits=True,
    has_conflicts=False,
    needs_rebase=False,
    discussions_resolved=True,
    discussions_required=False,
    approvals_left=0,
    pipeline_required=False,
    pipeline_status=None,
)


def test_ready_mr_is_mergeable() -> None:
    assert detailed_merge_status(READY) == "mergeable"
    assert merge_status(READY) == "can_be_merged"


def test_each_blocker_names_its_status() -> None:
    cases = {
        "not_open": replace(READY, state="merged"),
        "checking": replace(READY, checking=True),
        "draft_status": replace(READY, draft=True),
        "commits_status": replace(READY, source_exists=False),
        "preparing": replace(READY, preparing=True),
        "approvals_syncing": replace(READY, approvals_syncing=True),
        "requested_changes": replace(READY, requested_changes=True),
        "locked_paths": replace(READY, locked_paths=True),
        "locked_lfs_files": replace(READY, locked_lfs_files=True),
        "conflict": replace(READY, has_conflicts=True),
        "need_rebase": replace(READY, needs_rebase=True),
        "discussions_not_resolved": replace(
            READY, discussions_required=True, discussions_resolved=False
        ),
        "not_approved": replace(READY, approvals_left=1),
        "ci_must_pass": replace(READY, pipeline_required=True, pipeline_status="failed"),
        "ci_still_running": replace(READY, pipeline_required=True, pipeline_status="running"),
    }
    for expected, facts in cases.items():
        assert detailed_merge_status(facts) == expected


def test_unresolved_discussions_only_block_when_required() -> None:
    assert detailed_merge_status(replace(READY, discussions_resolved=False)) == "mergeable"


def test_missing_pipeline_blocks_only_when_required() -> None:
    assert detailed_merge_status(replace(READY, pipeline_required=True)) == "ci_must_pass"
    assert detailed_merge_status(replace(READY, pipeline_status="failed")) == "mergeable"


def test_checks_run_in_gitlab_order() -> None:
    """app/services/merge_requests/mergeability/detailed_merge_status_service.rb and
    MergeRequest.all_mergeability_checks (GitLab 17/18): draft, commits, discussions,
    approvals, locks, then the git checks (conflict, need_rebase) and CI last."""
    everything = replace(
        READY,
        draft=True,
        has_commits=False,
        discussions_required=True,
        discussions_resolved=False,
        approvals_left=1,
        requested_changes=True,
        locked_paths=True,
        locked_lfs_files=True,
        has_conflicts=True,
        needs_rebase=True,
        pipeline_required=True,
        pipeline_status="failed",
    )
    order = [
        ("draft_status", {"draft": False}),
        ("commits_status", {"has_commits": True}),
        ("discussions_not_resolved", {"discussions_resolved": True}),
        ("not_approved", {"approvals_left": 0}),
        ("requested_changes", {"requested_changes": False}),
        ("locked_paths", {"locked_paths": False}),
        ("locked_lfs_files", {"locked_lfs_files": False}),
        ("conflict", {"has_conflicts": False}),
        ("need_rebase", {"needs_rebase": False}),
        ("ci_must_pass", {"pipeline_status": "success"}),
    ]
    facts = everything
    for expected, fix in order:
        assert detailed_merge_status(facts) == expected
        facts = replace(facts, **fix)  # type: ignore[arg-type]
    assert detailed_merge_status(facts) == "mergeable"


def test_unapproved_mr_needing_a_rebase_reads_not_approved() -> None:
    facts = replace(READY, approvals_left=1, needs_rebase=True, has_conflicts=True)
    assert detailed_merge_status(facts) == "not_approved"


def test_refusals_use_gitlab_status_codes() -> None:
    """lib/api/merge_requests.rb (GitLab 17/18): ``not_allowed!`` (405) for every MR that is
    not mergeable; 406 is no longer used."""
    assert refusal("mergeable", auto_merge=False) is None
    for status in ("unchecked", "checking", "preparing", "approvals_syncing"):
        assert refusal(status, auto_merge=False) is None
    for status in (
        "conflict",
        "need_rebase",
        "commits_status",
        "draft_status",
        "discussions_not_resolved",
        "not_approved",
        "requested_changes",
        "locked_paths",
        "ci_must_pass",
        "ci_still_running",
    ):
        found = refusal(status, auto_merge=False)
        assert found is not None
        assert (found.status_code, found.message) == (405, "405 Method Not Allowed")
    # GitLab 17's merge when checks pass (``merge_when_checks_pass_service.rb``) is available
    # for any open MR that is not mergeable yet; a closed or merged one is still refused.
    for status in ("ci_still_running", "ci_must_pass", "draft_status", "not_approved"):
        assert refusal(status, auto_merge=True) is None
    not_open = refusal("not_open", auto_merge=True)
    assert not_open is not None
    assert not_open.status_code == 405


@given(
    state=st.sampled_from(["opened", "closed", "merged", "locked"]),
    checking=st.booleans(),
    draft=st.booleans(),
    conflicts=st.booleans(),
    approvals_left=st.integers(0, 3),
    pipeline=st.sampled_from([None, "pending", "running", "success", "failed", "canceled"]),
)
def test_mergeable_only_when_nothing_blocks(
    state: str,
    checking: bool,
    draft: bool,
    conflicts: bool,
    approvals_left: int,
    pipeline: str | None,
) -> None:
    facts = replace(
        READY,
        state=state,
        checking=checking,
        draft=draft,
        has_conflicts=conflicts,
        approvals_left=approvals_left,
        pipeline_required=True,
        pipeline_status=pipeline,
    )
    status = detailed_merge_status(facts)
    blocked = (
        state != "opened"
        or checking
        or draft
        or conflicts
        or approvals_left
        or pipeline != "success"
    )
    assert (status == "mergeable") == (not blocked)
    if state != "opened":
        assert status == "not_open"
