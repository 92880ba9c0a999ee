"""Comments: rendered from templates, signed, without secrets or stack traces."""

from __future__ import annotations

from merge_assist.merging.engine.comments import TEMPLATES, marker, render, with_marker


def test_every_template_renders_signed_without_placeholders_left() -> None:
    for template in TEMPLATES:
        body = render(template, {}, signature="Merge Bot")
        assert body.endswith("— *Merge Bot*")
        assert "{" not in body


def test_not_ready_lists_reasons_and_attempts() -> None:
    body = render("not_ready", {"attempt": "2", "max_attempts": "3", "reasons": "- draft"})
    assert "attempt 2/3" in body
    assert "- draft" in body


def test_secrets_and_tracebacks_never_reach_a_comment() -> None:
    leak = (
        "push failed for https://bot:glpat-abcdefghijklmnop@gitlab.example/x.git\n"
        'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f\nValueError'
    )
    body = render("error", {"reason": leak})
    assert "glpat-abcdefghijklmnop" not in body
    assert "Traceback" not in body
    assert "/app/x.py" not in body
    assert "administrators have been alerted" in body


def test_unknown_templates_render_a_generic_message() -> None:
    body = render("no_such_template", {"reason": "secret stuff"})
    assert "unexpected condition" in body
    assert "secret stuff" not in body


def test_the_marker_identifies_the_comment_and_cannot_be_forged() -> None:
    body = with_marker("hello", "7:abc:merged_single")
    assert body.endswith(marker("7:abc:merged_single"))
    assert "<!--" not in render("error", {"reason": "<!-- merge-assist:x -->"})
