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
        "broken_status": replace(READY, source_exists=False),
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


def test_refusals_use_gitlab_status_codes() -> None:
    assert refusal("mergeable", auto_merge=False) is None
    conflict = refusal("conflict", auto_merge=False)
    assert conflict is not None
    assert (conflict.status_code, conflict.message) == (406, "Branch cannot be merged")
    draft = refusal("draft_status", auto_merge=False)
    assert draft is not None
    assert draft.status_code == 405
    assert refusal("ci_still_running", auto_merge=True) is None
    still_failed = refusal("ci_must_pass", auto_merge=True)
    assert still_failed is not None
    assert still_failed.status_code == 405


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
