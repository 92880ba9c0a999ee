"""The rejection comment's advice (pure): placed before the signature, cleaned like a
parameter, the hidden marker kept last."""

from __future__ import annotations

from merge_assist.merging.engine.comments import (
    ZERO_WIDTH_SPACE,
    marker,
    render,
    with_advice,
    with_marker,
)


def _rejection() -> str:
    params = {"max_attempts": "3", "reasons": "- pipeline #4 failed"}
    return with_marker(render("rejected", params), "7:abc:rejected")


def test_the_advice_goes_before_the_signature_and_the_marker_stays_last() -> None:
    body = with_advice(_rejection(), "Fix the tests and push, then assign the bot again.")
    advice = body.index("**What to do next:** Fix the tests and push")
    assert advice < body.index("— *Merge Assist*")
    assert body.endswith(marker("7:abc:rejected"))


def test_the_advice_cannot_run_quick_actions_or_leak_tokens() -> None:
    body = with_advice(_rejection(), "push\n/merge\n  /approve glpat-AAAABBBBCCCCDDDD1234 <!-- x")
    assert not any(line.lstrip().startswith("/") for line in body.splitlines())
    assert f"{ZERO_WIDTH_SPACE}/merge" in body
    assert "glpat-" not in body
    assert body.count("<!--") == 1


def test_a_blank_advice_changes_nothing() -> None:
    assert with_advice(_rejection(), "  ") == _rejection()
