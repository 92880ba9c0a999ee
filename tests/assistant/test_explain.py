"""Facts to explanation (pure): reasons, waits, strikes, batch culprit, jobs, the next step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from merge_assist.assistant.explain import JobFacts, LiveReason, MergeRequestFacts, explain
from merge_assist.assistant.render import render_text
from merge_assist.merging.schemas import BatchOut, HistoryOut, MergeRequestOut

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _mr(**changes: Any) -> MergeRequestOut:
    values: dict[str, Any] = {
        "id": 41,
        "project_id": 2,
        "iid": 7,
        "target_branch": "main",
        "source_branch": "topic",
        "title": "Faster feed",
        "author_username": "alice",
        "web_url": None,
        "queue_state": "not_ready",
        "priority": 0,
        "strikes": 0,
        "head_sha": "abc",
        "pipeline_status": None,
        "pipeline_url": None,
        "reasons": [],
        "batch_id": None,
        "recognised_at": T0,
        "merged_at": None,
        "rejected_at": None,
        "updated_at": T0,
    }
    return MergeRequestOut(**{**values, **changes})


def _entry(event: str, minutes: int, iids: list[int] | None = None, **details: str) -> HistoryOut:
    return HistoryOut(
        id=minutes,
        target_branch="main",
        event=event,
        iids=iids or [7],
        details=details,
        created_at=T0 + timedelta(minutes=minutes),
    )


def _facts(mr: MergeRequestOut, **changes: Any) -> MergeRequestFacts:
    return MergeRequestFacts(mr=mr, reference="acme/app!7", max_strikes=3, **changes)


def test_stored_reasons_come_in_plain_words_with_their_fixes_in_one_sentence() -> None:
    found = explain(
        _facts(
            _mr(
                reasons=[
                    "the merge request is marked as draft",
                    "blocking discussions are not resolved",
                    "it needs 2 more approvals",
                ]
            )
        )
    )
    assert [r.code for r in found.reasons] == ["draft", "discussions", "approvals"]
    assert all(r.source == "queue" for r in found.reasons)
    assert found.reasons[2].detail == "it needs 2 more approvals"
    assert found.next_step == (
        "Mark it as ready when it is done; resolve the open threads (or ask their authors to); "
        "ask a reviewer to approve it."
    )
    assert found.next_step.count(".") == 1


def test_gitlab_adds_what_the_queue_has_not_stored_without_repeating_it() -> None:
    found = explain(
        _facts(
            _mr(queue_state="waiting", reasons=["pipeline #12 is running"]),
            live=[
                LiveReason("pipeline_running", "pipeline #12 is running"),
                LiveReason("conflicts", "it has conflicts with the target branch"),
            ],
        )
    )
    assert [(r.code, r.source) for r in found.reasons] == [
        ("pipeline_running", "queue"),
        ("conflicts", "gitlab"),
    ]
    assert found.waiting_for == ["Its pipeline is still running."]
    assert found.next_step.startswith("Rebase it onto the target branch")


def test_waiting_only_says_wait_and_since_when() -> None:
    found = explain(
        _facts(_mr(queue_state="waiting", reasons=["GitLab is still checking mergeability"]))
    )
    assert found.next_step == (
        "Nothing to do but wait: GitLab is still checking whether it can merge."
    )
    assert found.since == T0


def test_a_vault_lock_is_nobodys_fault_in_the_mr() -> None:
    found = explain(_facts(_mr(reasons=["`cnc/part.mcam` is checked out in the vault by @bob"])))
    assert found.reasons[0].held
    assert found.reasons[0].code == "file_locked"
    assert found.next_step.startswith("Nothing to fix: it merges once the file is checked in")


def test_a_rejected_culprit_gets_its_strikes_batch_jobs_and_a_way_back() -> None:
    history = [
        _entry("recognised", 0),
        _entry("batch_started", 5, [6, 7, 8]),
        _entry("culprit", 30),
        _entry("struck", 31, cause="batch_failed", strikes="1"),
        _entry("rejected", 32),
    ]
    batch = BatchOut(
        id=9,
        project_id=2,
        target_branch="main",
        attempt_id=4,
        run_id=1,
        probe=False,
        status="failed",
        member_iids=[6, 7, 8],
        landed_iids=[],
        culprit_iids=[7],
        branch="b",
        batch_mr_iid=None,
        batch_mr_url=None,
        base_sha=None,
        tested_sha=None,
        pipeline_id=77,
        pipeline_status="failed",
        landed_sha=None,
        started_at=T0 + timedelta(minutes=5),
        finished_at=None,
    )
    job = JobFacts(
        id=5,
        name="test",
        stage="test",
        web_url=None,
        failure_reason="script_failure",
        trace="$ pytest\nE       AssertionError: boom\nERROR: Job failed: exit code 1\n",
    )
    rejected_at = T0 + timedelta(minutes=32)
    found = explain(
        _facts(
            _mr(
                queue_state="rejected",
                strikes=1,
                rejected_at=rejected_at,
                reasons=["pipeline #77 failed for abc"],
            ),
            history=history,
            batch=batch,
            jobs=[job],
        )
    )
    assert found.batch is not None
    assert found.batch.is_culprit
    assert found.batch.members == [6, 7, 8]
    assert [(s.cause, s.strikes) for s in found.strike_history] == [("batch_failed", 1)]
    assert found.since == rejected_at
    assert found.failing_jobs[0].excerpt[-1] == "ERROR: Job failed: exit code 1"
    assert found.next_step.startswith("Its changes broke the batch pipeline")
    assert found.next_step.endswith("then assign the bot again to queue it anew.")
    text = render_text(found)
    assert "this MR was the culprit" in text
    assert "  | E       AssertionError: boom" in text


def test_an_innocent_batch_member_is_not_blamed() -> None:
    batch = BatchOut(
        id=9,
        project_id=2,
        target_branch="main",
        attempt_id=4,
        run_id=1,
        probe=False,
        status="failed",
        member_iids=[6, 7],
        landed_iids=[],
        culprit_iids=[6],
        branch="b",
        batch_mr_iid=None,
        batch_mr_url=None,
        base_sha=None,
        tested_sha=None,
        pipeline_id=77,
        pipeline_status="failed",
        landed_sha=None,
        started_at=T0,
        finished_at=None,
    )
    found = explain(
        _facts(_mr(queue_state="ready"), batch=batch, history=[_entry("culprit", 3, [6])])
    )
    assert found.batch is not None
    assert not found.batch.is_culprit
    assert found.next_step == "Nothing: it is in the queue's hands."


def test_a_merged_mr_ignores_what_gitlab_says_and_notes_are_kept() -> None:
    found = explain(
        _facts(
            _mr(queue_state="merged", merged_at=T0),
            live=[LiveReason("not_open", "the merge request is merged")],
            notes=["GitLab could not be asked"],
        )
    )
    assert found.reasons == []
    assert found.next_step == "Nothing: it is merged."
    assert found.notes == ["GitLab could not be asked"]


def test_failing_jobs_lead_the_next_step_and_cover_the_pipeline_reason() -> None:
    jobs = [
        JobFacts(id=n, name=name, stage="test", web_url=None, failure_reason=None, trace="boom")
        for n, name in ((1, "lint"), (2, "unit"))
    ]
    found = explain(
        _facts(
            _mr(reasons=["pipeline #5 failed for abc", "blocking discussions are not resolved"]),
            jobs=jobs,
        )
    )
    assert found.next_step == (
        "Fix what the failing jobs (lint, unit) report and push; "
        "resolve the open threads (or ask their authors to)."
    )


def test_conflicts_met_twice_are_fixed_once_with_the_plain_words() -> None:
    found = explain(
        _facts(
            _mr(
                queue_state="rejected",
                reasons=["it conflicts with the other merge requests of the batch"],
            ),
            live=[LiveReason("conflicts", "it has conflicts with the target branch")],
        )
    )
    assert [reason.code for reason in found.reasons] == ["batch_conflict", "conflicts"]
    assert found.next_step == (
        "Rebase it onto the target branch, resolve the conflicts and push, "
        "then assign the bot again to queue it anew."
    )
