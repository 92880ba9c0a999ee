"""Comments: rendered from templates, signed, without secrets or stack traces."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from merge_assist.merging.engine.comments import (
    TEMPLATES,
    marker,
    neutralise_quick_actions,
    render,
    with_marker,
)

_PARAMS = sorted({name for text in TEMPLATES.values() for name in re.findall(r"{(\w+)}", text)})


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


# Issue 13, item 10: what GitLab or users wrote (titles, branch names, usernames, reasons, job
# names) never starts a line of the bot's comment with a slash, so GitLab never runs it as a
# quick action (``/merge``, ``/approve``) in the bot's name.

_HOSTILE = st.lists(
    st.sampled_from(["/", "\n", "\r", " ", "\t", "\u2028", "\x85", "\u200b", "merge", "- "]),
    max_size=20,
).map("".join) | st.text(max_size=40)


def _lines_starting_with_a_slash(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("/")]


def test_a_quick_action_in_a_reason_is_shown_but_not_run() -> None:
    body = render("not_ready", {"attempt": "1", "max_attempts": "3", "reasons": "/merge"})
    assert _lines_starting_with_a_slash(body) == []
    assert "\u200b/merge" in body
    title = "Fix\n/approve\n  /assign @me"
    assert _lines_starting_with_a_slash(render("error", {"reason": title})) == []


@given(st.sampled_from(sorted(TEMPLATES)), st.dictionaries(st.sampled_from(_PARAMS), _HOSTILE))
def test_no_rendered_line_starts_with_a_slash(template: str, params: dict[str, str]) -> None:
    body = render(template, params, signature="Merge Assist")
    assert _lines_starting_with_a_slash(body) == []


@given(_HOSTILE)
def test_neutralising_keeps_every_character_and_stops_every_slash_line(text: str) -> None:
    cleaned = neutralise_quick_actions(text)
    assert cleaned.replace("\u200b", "") == text.replace("\u200b", "")
    assert _lines_starting_with_a_slash(cleaned) == []
    assert neutralise_quick_actions(cleaned) == cleaned  # once is enough
