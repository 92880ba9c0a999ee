"""What the AI is told (pure): the admin's choices, redaction and the request size."""

from __future__ import annotations

from merge_assist.assistant.ai_settings import AiSettings
from merge_assist.assistant.prompt import SYSTEM, build_messages
from merge_assist.assistant.redaction import redact_for_ai
from merge_assist.assistant.render import render_text
from merge_assist.assistant.schemas import AiSummary, ExplainedReason, Explanation, FailingJob


def _found(excerpt: list[str]) -> Explanation:
    reason = ExplainedReason(
        code="file_locked",
        text="A file it changes is checked out in the vault by someone else.",
        detail="`cam/part-7.nc` is checked out in the vault by @bob",
        waiting=False,
        held=True,
        fix="Wait.",
        source="queue",
    )
    job = FailingJob(
        id=1, name="test", stage="test", web_url=None, failure_reason=None, excerpt=excerpt
    )
    return Explanation(
        mr_id=1,
        project_id=1,
        reference="acme/secret-project!7",
        title="Add the part",
        web_url="https://gitlab.example.com/acme/secret-project/-/merge_requests/7",
        queue_state="not_ready",
        summary="Not ready.",
        since=None,
        waiting_for=[],
        reasons=[reason],
        strikes=1,
        max_strikes=3,
        strike_history=[],
        batch=None,
        failing_jobs=[job],
        next_step="Wait.",
        notes=[],
    )


def _user(found: Explanation, **choices: object) -> str:
    settings = AiSettings.model_validate(choices)
    system, user = build_messages(found, settings)
    assert system == ("system", SYSTEM)
    return user[1]


def test_the_project_links_and_people_never_leave() -> None:
    text = _user(_found(["ok"]), send_titles=True, send_file_names=True, send_log_excerpts=True)
    assert "secret-project" not in text
    assert "gitlab.example.com" not in text
    assert "@bob" not in text
    assert "@[user]" in text
    assert "cam/part-7.nc" in text
    assert "Title: Add the part" in text


def test_titles_file_names_and_logs_stay_unless_allowed() -> None:
    text = _user(_found(["tests/test_part.py:3: AssertionError"]))
    assert "Add the part" not in text
    assert "part-7.nc" not in text
    assert "test_part.py" not in text
    assert "AssertionError" not in text
    assert "[file]" in text
    assert "Failed job: test" in text


def test_the_request_keeps_the_newest_log_lines_within_its_size() -> None:
    lines = [f"line {n:04d} " + "x" * 80 for n in range(200)]
    text = _user(_found(lines), send_log_excerpts=True, max_request_chars=2000)
    assert len(text) + len(SYSTEM) <= 2000
    assert "line 0199" in text
    assert "line 0000" not in text
    assert "Suggested next step: Wait." in text  # the facts come before the logs


def test_redaction_removes_what_looks_like_a_secret() -> None:
    cases = {
        "Authorization: Bearer abc.def-123": "abc.def-123",
        "https://user:pw1234@git.example.com/x": "pw1234",
        "token glpat-AAAABBBBCCCCDDDD1234": "glpat-",
        "key 0123456789abcdef0123456789abcdef": "0123456789abcdef",
        "blob QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY3ODkw": "QUJDREVG",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl": "eyJhbGci",
        "aws AKIAABCDEFGHIJKLMNOP": "AKIAABCD",
        "mail jane.doe@example.com": "jane.doe",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----": "MIIB",
    }
    for text, secret in cases.items():
        assert secret not in redact_for_ai(text), text
    kept = "E   AssertionError: assert 1 == 2 in tests/test_math.py (sha 0b5c1cf3)"
    assert redact_for_ai(kept) == kept


def test_the_terminal_shows_the_summary_as_ai_generated_or_the_note() -> None:
    found = _found(["ok"])
    with_text = found.model_copy(
        update={"ai_summary": AiSummary(outcome="ok", text="Wait for bob.", model="m-1")}
    )
    assert "AI summary (m-1, AI-generated, advisory):\n  Wait for bob." in render_text(with_text)
    note = AiSummary(outcome="timeout", note="No AI summary: it timed out.")
    assert render_text(found.model_copy(update={"ai_summary": note})).endswith(
        "No AI summary: it timed out."
    )
