"""Validation collects every reason and tells waiting from failing."""

from __future__ import annotations

import pytest

from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import (
    MERGE_REQUEST_EVENT,
    FileLock,
    Pipeline,
    pipelines_by_head,
    pipelines_by_sha,
)
from merge_assist.merging.engine.validation import validate
from tests.merging.engine.factories import pipeline, sha, snapshot

CONFIG = EngineConfig()


def check(mr, **kwargs):
    return validate(mr, target_branch="main", config=CONFIG, **kwargs)


def codes(verdict) -> set[str]:
    return {reason.code for reason in verdict.reasons}


def test_a_clean_mr_with_a_green_head_pipeline_passes() -> None:
    verdict = check(snapshot(1))
    assert verdict.status == "passing"
    assert verdict.reasons == ()
    assert verdict.ci_finished


def test_every_reason_is_collected_at_once() -> None:
    mr = snapshot(
        1,
        draft=True,
        has_conflicts=True,
        blocking_discussions_resolved=False,
        approvals_left=2,
        files_changed=("assets/logo.psd",),
    )
    verdict = check(mr, locks=(FileLock(path="assets/logo.psd", holder="carol"),))
    assert verdict.status == "failing"
    assert codes(verdict) == {"draft", "conflicts", "discussions", "approvals", "file_locked"}
    messages = " ".join(reason.message for reason in verdict.reasons)
    assert "`assets/logo.psd`" in messages
    assert "@carol" in messages
    assert "2 more approvals" in messages


def test_approvals_api_wins_over_detailed_merge_status() -> None:
    assert check(snapshot(1, approvals_left=0, detailed_merge_status="not_approved")).status == (
        "passing"
    )
    fallback = check(snapshot(1, approvals_left=None, detailed_merge_status="not_approved"))
    assert codes(fallback) == {"approvals"}
    assert check(snapshot(1, approvals_left=None)).status == "passing"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("requested_changes", "requested_changes"),
        ("locked_paths", "gitlab_locked_paths"),
        ("locked_lfs_files", "gitlab_locked_lfs_files"),
        ("commits_status", "no_commits"),
    ],
)
def test_gitlab_17_blockers_fail_with_their_reason(status: str, code: str) -> None:
    """detailed_merge_status values of GitLab 17/18 (doc/api/merge_requests.md) that only
    GitLab knows: the MR fails with a reason instead of meeting a 405 at merge time."""
    verdict = check(snapshot(1, detailed_merge_status=status))
    assert verdict.status == "failing"
    assert codes(verdict) == {code}


@pytest.mark.parametrize(
    "status",
    ["running", "pending", "created", "scheduled", "waiting_for_resource", "preparing"],
)
def test_a_running_head_pipeline_is_waiting_not_failing(status: str) -> None:
    """Every GitLab status that moves on by itself (``app/models/concerns/ci/has_status.rb``):
    a delayed job's time comes, a resource group frees, a runner finishes preparing."""
    head = sha("a")
    verdict = check(snapshot(1, head_sha=head, head_pipeline=pipeline(head, status)))
    assert verdict.status == "waiting"
    assert not verdict.ci_finished
    assert verdict.failing_reasons == ()


def test_a_head_pipeline_waiting_for_a_manual_job_holds_the_mr_and_says_who_must_act() -> None:
    """``manual`` (a blocking manual job, ``doc/ci/jobs/job_control.md``) never finishes by
    itself: a held reason (no strike), not a silent wait."""
    head = sha("a")
    verdict = check(snapshot(1, head_sha=head, head_pipeline=pipeline(head, "manual", 9)))
    assert verdict.status == "failing"
    assert verdict.only_held
    assert not verdict.ci_finished
    assert codes(verdict) == {"pipeline_manual"}
    assert verdict.reasons[0].message == (
        "pipeline #9 waits for a manual job: someone must play it in GitLab"
    )


@pytest.mark.parametrize("status", ["failed", "canceled", "skipped"])
def test_a_failed_head_pipeline_fails(status: str) -> None:
    head = sha("a")
    verdict = check(snapshot(1, head_sha=head, head_pipeline=pipeline(head, status, 7)))
    assert verdict.status == "failing"
    assert verdict.ci_finished
    assert codes(verdict) == {"pipeline_failed"}
    assert "#7" in verdict.reasons[0].message


def test_only_the_pipeline_of_the_current_head_counts() -> None:
    old, new = sha("o"), sha("n")
    verdict = check(snapshot(1, head_sha=new, head_pipeline=pipeline(old, "success")))
    assert verdict.status == "waiting"
    assert codes(verdict) == {"no_pipeline"}
    later = check(snapshot(1, head_sha=new, head_pipeline=None), pipelines={new: pipeline(new)})
    assert later.status == "passing"


def merged_result(head: str, status: str = "success", pipeline_id: int = 7) -> Pipeline:
    """A merged results pipeline: it ran on a merge commit of ``head`` into the target."""
    return Pipeline(
        id=pipeline_id,
        sha=sha("m"),
        status=status,
        ref="refs/merge-requests/1/merge",
        source=MERGE_REQUEST_EVENT,
        source_sha=head,
    )


def test_a_merged_results_pipeline_counts_for_the_head_it_merged() -> None:
    head = sha("n")
    verdict = check(snapshot(1, head_sha=head, head_pipeline=merged_result(head)))
    assert verdict.status == "passing"
    failed = check(snapshot(1, head_sha=head, head_pipeline=merged_result(head, "failed")))
    assert failed.status == "failing"
    assert codes(failed) == {"pipeline_failed"}
    assert "#7" in failed.reasons[0].message
    assert failed.ci_finished


def test_a_merged_results_pipeline_of_an_older_head_is_not_trusted() -> None:
    old, new = sha("o"), sha("n")
    stale = snapshot(1, head_sha=new, head_pipeline=merged_result(old))
    verdict = check(stale, pipelines=pipelines_by_sha((), (stale,)))
    assert verdict.status == "waiting"
    assert codes(verdict) == {"no_pipeline"}


def test_gitlab_counts_a_merge_request_pipeline_before_a_newer_branch_pipeline() -> None:
    head = sha("n")
    branch = Pipeline(id=9, sha=head, status="failed", ref="feature/1", source="push")
    chosen = pipelines_by_head([merged_result(head, "success", 7), branch])
    assert chosen[head].id == 7
    newer = merged_result(head, "running", 11)
    assert pipelines_by_head([merged_result(head, "success", 7), branch, newer])[head].id == 11
    assert pipelines_by_head([branch, pipeline(head, "success", 3)])[head].id == 9


def test_a_skipped_pipeline_never_hides_one_that_ran_for_the_same_commit() -> None:
    head = sha("k")
    started = Pipeline(id=20, sha=head, status="running", ref="merge-assist/b/1", source="api")
    skipped = Pipeline(id=21, sha=head, status="skipped", ref="merge-assist/b/1", source="push")
    assert pipelines_by_head([started, skipped])[head].id == 20
    assert pipelines_by_head([skipped])[head].id == 21  # alone it is what GitLab shows


def test_a_lock_held_by_the_author_does_not_block() -> None:
    mr = snapshot(1, files_changed=("a.bin",), author="dave")
    assert check(mr, locks=(FileLock(path="a.bin", holder="dave"),)).status == "passing"


def test_closed_unrecognised_or_wrong_target_fail() -> None:
    assert "not_open" in codes(check(snapshot(1, state="closed")))
    assert "not_recognised" in codes(check(snapshot(1, bot_is_assignee=False)))
    assert check(snapshot(1, bot_is_assignee=False, bot_is_reviewer=True)).status == "passing"
    restricted = EngineConfig(target_branches=("release",))
    verdict = validate(snapshot(1), target_branch="main", config=restricted)
    assert "target_not_allowed" in codes(verdict)


def test_checking_is_waiting_and_ci_can_be_left_out() -> None:
    single = CONFIG.model_copy(update={"strategy": "single"})
    for status in ("checking", "unchecked", "preparing", "approvals_syncing"):
        checking = snapshot(1, detailed_merge_status=status)
        verdict = validate(checking, target_branch="main", config=single)
        assert verdict.status == "waiting"
        for strategy in ("batch", "train"):  # their build finds a conflict itself
            building = CONFIG.model_copy(update={"strategy": strategy})
            assert validate(checking, target_branch="main", config=building).status == "passing"
    head = sha("f")
    red = snapshot(1, head_sha=head, head_pipeline=pipeline(head, "failed"), has_conflicts=True)
    assert check(red, include_ci=False).status == "passing"
