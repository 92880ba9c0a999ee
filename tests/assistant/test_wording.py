"""The engine's reason messages map back to their codes; a job log's telling lines (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.assistant.wording import WORDINGS, classify, log_excerpt, strike_text, wording
from merge_assist.merging.engine.config import EngineConfig
from merge_assist.merging.engine.observations import FileLock, MergeRequestSnapshot, Pipeline
from merge_assist.merging.engine.readiness import BLOCKED_REASON
from merge_assist.merging.engine.retries import CAUSE
from merge_assist.merging.engine.validation import validate

HEAD = "0b5c1cf3aa11"
# Codes of what the queue stores beside validation's reasons (strikes, retries, blocks).
STORED_CODES = {"blocked", "pipeline_retried", "rebase_failed", "batch_conflict", "batch_failed"}


def _messages(**changes: object) -> dict[str, str]:
    """``{code: message}`` as the engine's validation words them."""
    values: dict[str, object] = {
        "iid": 3,
        "target_branch": "main",
        "head_sha": HEAD,
        "author": "alice",
        "files_changed": ("cnc/part.mcam",),
        **changes,
    }
    snapshot = MergeRequestSnapshot.model_validate(values)
    verdict = validate(
        snapshot,
        target_branch="main",
        config=EngineConfig(strategy="single", target_branches=("main",)),  # it waits for checks
        locks=[FileLock(path="cnc/part.mcam", holder="bob")],
    )
    return {reason.code: reason.message for reason in verdict.reasons}


def test_every_reason_the_engine_gives_is_classified_back_to_its_code() -> None:
    cases = [
        _messages(
            draft=True,
            has_conflicts=True,
            blocking_discussions_resolved=False,
            approvals_left=2,
            detailed_merge_status="checking",
        ),
        _messages(state="closed", approvals_left=1, target_branch="release"),
        _messages(
            detailed_merge_status="not_approved",
            head_pipeline=Pipeline(id=10, sha=HEAD, status="running"),
        ),
        _messages(head_pipeline=Pipeline(id=11, sha=HEAD, status="failed")),
        _messages(head_pipeline=Pipeline(id=12, sha=HEAD, status="manual")),
        _messages(bot_is_assignee=False),
    ]
    seen: set[str] = set()
    for messages in cases:
        for code, message in messages.items():
            assert classify(message) == code, (code, message)
            seen.add(code)
    # Every code validation can give is among the cases, and each has its plain words.
    assert seen == set(WORDINGS) - {"unknown", *STORED_CODES}


def test_what_the_queue_stores_beside_validation_is_classified_too() -> None:
    stored = {
        BLOCKED_REASON: "blocked",
        f"pipeline #12 failed and is retried (attempt 2 of 2): {CAUSE}": "pipeline_retried",
        "rebasing onto `main` failed with conflicts": "rebase_failed",
        "it conflicts with the other merge requests of the batch": "batch_conflict",
        "the batch pipeline failed because of it (with !4)": "batch_failed",
    }
    for message, code in stored.items():
        assert classify(message) == code, message
        assert wording(code) is not WORDINGS["unknown"]
    assert wording("pipeline_retried").waiting


def test_a_message_nobody_knows_is_unknown_and_still_worded() -> None:
    assert classify("the moon is full") == "unknown"
    assert wording("no_such_code").text == WORDINGS["unknown"].text
    assert "bisection" in strike_text("batch_failed")
    assert "odd_cause" in strike_text("odd_cause")


SANDBOX_TRACE = """\x1b[0KRunning with gitlab-runner 17.0.0 (sandbox)
  on sandbox-runner
section_start:1700000000:step_script\r\x1b[0KExecuting "step_script" stage
$ sandbox-ci check
============================= test session starts ==============================
collected 1 item

tests/test_sandbox_ci.py F                                               [100%]

=================================== FAILURES ===================================
    def test_tree_is_green(tree):
>       assert not tree.failures()
E       AssertionError: Found "sandbox-ci: fail" in src/broken4.txt (line 1).

tests/test_sandbox_ci.py:12: AssertionError
=========================== short test summary info ============================
FAILED tests/test_sandbox_ci.py::test_tree_is_green - AssertionError: Found it
============================== 1 failed in 0.42s ===============================
Cleaning up project directory and file based variables
ERROR: Job failed: exit code 1
"""


def test_the_excerpt_keeps_the_assertion_the_summary_and_the_runner_error() -> None:
    excerpt = log_excerpt(SANDBOX_TRACE)
    assert (
        'E       AssertionError: Found "sandbox-ci: fail" in src/broken4.txt (line 1).' in excerpt
    )
    assert ">       assert not tree.failures()" in excerpt  # context before the E line
    assert excerpt[-1] == "ERROR: Job failed: exit code 1"
    assert any(line.startswith("FAILED tests/") for line in excerpt)
    assert "collected 1 item" not in excerpt
    assert not any("\x1b" in line or "section_start" in line for line in excerpt)


def test_a_log_without_telling_lines_gives_its_end() -> None:
    trace = "\n".join(f"step {n}" for n in range(50))
    assert log_excerpt(trace, limit=3) == ["step 47", "step 48", "step 49"]


@given(st.text(max_size=3000))
def test_the_excerpt_is_bounded_whatever_the_log(trace: str) -> None:
    excerpt = log_excerpt(trace)
    assert len(excerpt) <= 20
    assert all(len(line) <= 300 for line in excerpt)
