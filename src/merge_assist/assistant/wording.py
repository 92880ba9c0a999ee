"""Plain words for the queue's reasons and strikes, and the telling lines of a job log (pure).

The codes are the engine's (``merging.engine.validation``); the queue stores only the
messages of its reasons, so ``classify`` maps a stored message back to its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Wording:
    """What a reason means for the author, and what resolves it."""

    text: str
    fix: str
    waiting: bool = False
    held: bool = False


WORDINGS: dict[str, Wording] = {
    "not_open": Wording(
        "The merge request is not open on GitLab.", "Reopen it and assign the bot again."
    ),
    "not_recognised": Wording(
        "The bot is no longer its assignee or reviewer, so the queue has let it go.",
        "Assign the bot again (as assignee or reviewer) to queue it.",
    ),
    "target_not_allowed": Wording(
        "Its target branch is not one the merge queue serves.",
        "Retarget it to a branch the queue serves.",
    ),
    "draft": Wording("It is marked as draft.", "Mark it as ready when it is done."),
    "conflicts": Wording(
        "It conflicts with its target branch.",
        "Rebase it onto the target branch, resolve the conflicts and push.",
    ),
    "discussions": Wording(
        "Some blocking discussion threads are not resolved.",
        "Resolve the open threads (or ask their authors to).",
    ),
    "approvals": Wording(
        "It does not have the approvals it needs yet.", "Ask a reviewer to approve it."
    ),
    "checking": Wording(
        "GitLab is still checking whether it can merge.", "Nothing: this resolves itself.", True
    ),
    "file_locked": Wording(
        "A file it changes is checked out in the vault by someone else.",
        "Nothing to fix: it merges once the file is checked in (ask its holder).",
        held=True,
    ),
    "no_pipeline": Wording(
        "No pipeline has run yet for its latest commit.",
        "Wait for the pipeline, or start one if the project does not run them on push.",
        True,
    ),
    "pipeline_running": Wording(
        "Its pipeline is still running.", "Nothing: the queue goes on when it finishes.", True
    ),
    "pipeline_manual": Wording(
        "Its pipeline waits for a manual job, which never runs by itself.",
        "Someone allowed to run the job plays it in GitLab; the queue goes on once it passes.",
        held=True,
    ),
    "pipeline_failed": Wording(
        "The pipeline of its latest commit failed.", "Fix what the failing jobs report and push."
    ),
    "pipeline_retried": Wording(
        "Its pipeline failed and runs again, in case the failure was a flake.",
        "Nothing yet: if it fails again, fix what the failing jobs report.",
        True,
    ),
    "blocked": Wording(
        "Its last attempt failed; the queue waits for a new push before trying again.",
        "Fix what made the last attempt fail and push.",
    ),
    "rebase_failed": Wording(
        "Rebasing it onto its target branch failed with conflicts.",
        "Rebase it yourself onto the target branch, resolve the conflicts and push.",
    ),
    "batch_conflict": Wording(
        "It conflicts with the other merge requests of its batch.",
        "Rebase it onto the target branch once they landed, resolve the conflicts and push.",
    ),
    "batch_failed": Wording(
        "The batch's pipeline failed because of it (found by bisection).",
        "Run the pipeline on your branch, fix what fails and push.",
    ),
    "unknown": Wording("The queue reported a reason it could not classify.", "Read the detail."),
}

# The engine's messages: validation's reasons (``merging.engine.validation``), then what
# ``readiness``, ``retries`` and the strikes' summaries (``batch``, ``single``) store.
_MESSAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern))
    for code, pattern in (
        ("not_open", r"^the merge request is (?!marked as draft)\w+$"),
        ("not_recognised", r"^the bot is no longer assignee or reviewer"),
        ("target_not_allowed", r"^target branch `.*` is not served"),
        ("draft", r"^the merge request is marked as draft"),
        ("conflicts", r"^it has conflicts with the target branch"),
        ("discussions", r"^blocking discussions are not resolved"),
        ("approvals", r"^it (needs \d+ more approvals?|is not approved)"),
        ("checking", r"^GitLab is still checking mergeability"),
        ("file_locked", r"^`.*` is checked out in the vault by @"),
        ("no_pipeline", r"^no pipeline has run yet for "),
        ("pipeline_running", r"^pipeline #\d+ is \w+$"),
        ("pipeline_manual", r"^pipeline #\d+ waits for a manual job"),
        ("pipeline_failed", r"^pipeline #\d+ \w+ for "),
        ("pipeline_retried", r"^pipeline #\d+ failed and is retried"),
        ("blocked", r"^the last attempt failed; the queue tries again after a new push"),
        ("rebase_failed", r"^rebasing onto `.*` failed"),
        ("batch_conflict", r"^it conflicts with the other merge requests of the batch"),
        ("batch_failed", r"^the batch pipeline failed because of it"),
    )
)

STRIKE_CAUSES: dict[str, str] = {
    "not_ready": "it failed validation after its pipeline finished",
    "rebase_failed": "rebasing it onto the target branch failed",
    "batch_conflict": "it conflicted with the other changes of a batch",
    "batch_failed": "the batch's pipeline failed because of it (found by bisection)",
}


def classify(message: str) -> str:
    """The engine's code for a stored reason message (``unknown`` when none matches)."""
    for code, pattern in _MESSAGES:
        if pattern.search(message):
            return code
    return "unknown"


def wording(code: str) -> Wording:
    """The plain words of ``code`` (the ``unknown`` wording for a code we do not know)."""
    return WORDINGS.get(code, WORDINGS["unknown"])


def strike_text(cause: str) -> str:
    """Why a strike was counted, in plain words."""
    return STRIKE_CAUSES.get(cause, f"the queue counted a failed attempt ({cause})")


# Lines of a job log that say why it failed: pytest's ``E`` lines and summary, compiler and
# runner errors. A few lines before each are kept for context.
_TELLING = re.compile(
    r"^(E\s{2,}|FAILED |ERROR|error|Error|\S+Error\b|.*\b(failed|FAILED|fatal|Traceback)\b)"
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\r")
_SECTION = re.compile(r"^section_(start|end):\d+:\S+")
MAX_EXCERPT_LINES = 20
MAX_LINE_LENGTH = 300
CONTEXT_LINES = 2


def log_excerpt(trace: str, *, limit: int = MAX_EXCERPT_LINES) -> list[str]:
    """The telling lines of a job log with a little context before each, at most ``limit``
    (the last ones: the reason is at the end); the log's last lines when none tells."""
    lines = [_SECTION.sub("", _ANSI.sub("", line)).rstrip() for line in trace.splitlines()]
    lines = [line for line in lines if line.strip()]
    keep: set[int] = set()
    for index, line in enumerate(lines):
        if _TELLING.match(line):
            keep.update(range(max(0, index - CONTEXT_LINES), index + 1))
    chosen = [lines[i] for i in sorted(keep)] if keep else lines
    return [line[:MAX_LINE_LENGTH] for line in chosen[-limit:]]
