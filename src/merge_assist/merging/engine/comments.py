"""Comment templates and their rendering (pure): signed, no secrets, no stack traces."""

from __future__ import annotations

import re
from collections.abc import Mapping

from merge_assist.kit.logging import redact

TEMPLATES: dict[str, str] = {
    "not_ready": (
        "This merge request is not ready for merge (attempt {attempt}/{max_attempts}):\n\n"
        "{reasons}\n\nFix the points above; the queue tries again after your next push."
    ),
    "held": (
        "This merge request waits before it can merge:\n\n{reasons}\n\nNothing to fix on "
        "your side: the queue merges it once the file is checked in (no attempt is counted)."
    ),
    "manual_job": (
        "This merge request waits before it can merge:\n\n{reasons}\n\nA manual job never "
        "runs by itself: someone allowed to run it must play it in GitLab. The queue merges "
        "this merge request once its pipeline passes (no attempt is counted)."
    ),
    "rejected": (
        "This merge request was rejected by the merge queue after {max_attempts} failed "
        "attempts:\n\n{reasons}\n\nThe bot has been unassigned. Assign it again (as assignee "
        "or reviewer) to start over."
    ),
    "rebase_failed": (
        "Rebasing onto `{target_branch}` failed (attempt {attempt}/{max_attempts}): {reason}\n\n"
        "Rebase the branch yourself and push; the queue tries again after your push."
    ),
    "batch_conflict": (
        "This merge request conflicts with the batch for `{target_branch}` "
        "(attempt {attempt}/{max_attempts}). It was left out of the batch: {reason}"
    ),
    "batch_failed": (
        "The batch pipeline failed because of this merge request{partners} "
        "(attempt {attempt}/{max_attempts}). The other members were not held back."
    ),
    "batch_in_progress": (
        "This merge request is being tested in batch {batch_link} together with {members}."
    ),
    "merged_single": "Merged into `{target_branch}` at {sha}.",
    "merged_batch": (
        "Merged into `{target_branch}` at {sha} as part of batch {batch} ({members})."
    ),
    "error": (
        "The merge queue could not process this merge request: {reason}. "
        "The administrators have been alerted."
    ),
}

MAX_PARAM_LENGTH = 2000
_TRACEBACK = re.compile(r"(?s)Traceback \(most recent call last\):.*")
_FRAME_LINE = re.compile(r'(?m)^\s*File ".*", line \d+.*$')
_MARKER = "<!-- merge-assist:{key} -->"
# A slash that would start a line, after any blanks: GitLab runs such a line as a quick action
# (``/merge``, ``/approve``). Every character Python splits lines on counts as a line break.
_LINE_START_SLASH = re.compile(r"(^|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])(\s*)/")
ZERO_WIDTH_SPACE = "\u200b"
_SIGNATURE_START = "\n\n— *"


def neutralise_quick_actions(text: str) -> str:
    """``text`` with no line starting with ``/``: a zero-width space goes before each such
    slash, so GitLab shows it but never runs it as a quick action (``/merge``, ``/approve``)."""
    return _LINE_START_SLASH.sub(rf"\1\2{ZERO_WIDTH_SPACE}/", text)


def clean_param(value: str) -> str:
    """A parameter safe to publish: credentials redacted, tracebacks cut, no GitLab quick
    action at the start of a line, length bounded."""
    text = _TRACEBACK.sub("(details are in the server log)", value)
    text = _FRAME_LINE.sub("", text)
    text = redact(text).replace("<!--", "").replace("-->", "")
    text = neutralise_quick_actions(text)
    if len(text) > MAX_PARAM_LENGTH:
        text = text[: MAX_PARAM_LENGTH - 1] + "…"
    return text


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(template: str, params: Mapping[str, str], signature: str = "Merge Assist") -> str:
    """The comment body for ``template``; an unknown template renders as a generic error."""
    text = TEMPLATES.get(template)
    safe = _Params({key: clean_param(str(value)) for key, value in params.items()})
    if text is None:
        text = TEMPLATES["error"]
        safe = _Params({"reason": "an unexpected condition occurred"})
    # Again on the whole: a parameter ending a line may put the template's own "/" first.
    body = neutralise_quick_actions(text.format_map(safe))
    return f"{body}\n\n— *{clean_param(signature)}*"


def with_advice(body: str, advice: str) -> str:
    """``body`` with "What to do next: ``advice``" before its signature (cleaned like a
    parameter: redacted, no quick action, bounded); unchanged when ``advice`` is blank."""
    text = clean_param(advice.strip())
    if not text:
        return body
    addition = f"\n\n**What to do next:** {text}"
    head, signed, tail = body.rpartition(_SIGNATURE_START)
    if not signed:
        return neutralise_quick_actions(body + addition)
    return neutralise_quick_actions(head + addition) + signed + tail


def with_marker(body: str, key: str) -> str:
    """Append the hidden idempotency marker the executor looks for before posting."""
    return f"{body}\n\n{_MARKER.format(key=clean_param(key))}"


def marker(key: str) -> str:
    """The hidden marker for ``key``."""
    return _MARKER.format(key=clean_param(key))


def bullet_list(items: list[str]) -> str:
    """Markdown bullets, one per item."""
    return "\n".join(f"- {item}" for item in items)
