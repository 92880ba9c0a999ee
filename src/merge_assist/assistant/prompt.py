"""What the AI is told about an MR (pure): only the facts the admin lets leave, redacted.

The explanation's plain facts always go (state, reasons, strikes, batch, job names, the next
step); the MR's title, file names and log excerpts only when the settings allow each. The
project's path, links and usernames never go. Everything passes ``redact_for_ai``; the user
message is cut to the request size the admin set, dropping the oldest log lines first.
"""

from __future__ import annotations

import re

from merge_assist.assistant.ai_settings import AiSettings
from merge_assist.assistant.redaction import redact_for_ai
from merge_assist.assistant.schemas import Explanation

SYSTEM = (
    "You help a developer understand why their GitLab merge request is not merging through a "
    "merge queue. Using only the facts given, write a short summary (at most five sentences, "
    "plain text) of what went wrong and what the author should do next. If the facts do not "
    "say, say so; do not invent causes."
)
# Paths (with a slash, not a URL) and names with a file extension.
_FILE = re.compile(r"(?<![\w:/.-])(?:[\w.-]+/)+[\w.-]+|\b[\w-]+(?:\.[\w-]+)*\.[A-Za-z][\w]{0,7}\b")
_MENTION = re.compile(r"(?<![^\s(])@[\w.-]+")  # @name after a blank or "(", not in a URL
_CUT = "…"


def build_messages(found: Explanation, settings: AiSettings) -> tuple[tuple[str, str], ...]:
    """The chat messages (system, user) for ``found`` within ``settings.max_request_chars``."""
    budget = max(0, settings.max_request_chars - len(SYSTEM))
    facts = [_clean(line, settings) for line in _fact_lines(found, settings)]
    text = "\n".join(facts)
    logs = _log_lines(found, settings, budget - len(text) - 1)
    if logs:
        text += "\n" + "\n".join(logs)
    if len(text) > budget:
        text = text[: max(0, budget - len(_CUT))] + _CUT
    return (("system", SYSTEM), ("user", text))


def _fact_lines(found: Explanation, settings: AiSettings) -> list[str]:
    lines = [f"Queue state: {found.queue_state}. {found.summary}"]
    if settings.send_titles:
        lines.append(f"Title: {found.title}")
    lines += [f"Reason: {reason.text} ({reason.detail})" for reason in found.reasons]
    lines.append(f"Strikes: {found.strikes} of {found.max_strikes}")
    lines += [f"Strike: {strike.text}" for strike in found.strike_history]
    if found.batch is not None:
        verdict = "the culprit" if found.batch.is_culprit else "not the culprit"
        lines.append(
            f"Batch ({found.batch.status}) of {len(found.batch.members)}: it was {verdict}"
        )
    for job in found.failing_jobs:
        why = f", {job.failure_reason}" if job.failure_reason else ""
        lines.append(f"Failed job: {job.name} (stage {job.stage or '?'}{why})")
    lines.append(f"Suggested next step: {found.next_step}")
    return lines


def _log_lines(found: Explanation, settings: AiSettings, room: int) -> list[str]:
    """The failing jobs' excerpts, the newest lines of each kept while they fit in ``room``."""
    if not settings.send_log_excerpts or room <= 0:
        return []
    kept: list[str] = []
    for job in found.failing_jobs:
        header = f"Log of {job.name}:"
        lines = [f"| {_clean(line, settings)}" for line in job.excerpt]
        chosen: list[str] = []
        used = len(header) + 1
        for line in reversed(lines):
            if used + len(line) + 1 > room:
                break
            chosen.insert(0, line)
            used += len(line) + 1
        if not chosen:
            break
        kept += [header, *chosen]
        room -= used
    return kept


def _clean(text: str, settings: AiSettings) -> str:
    text = redact_for_ai(text)
    text = _MENTION.sub("@[user]", text)
    if not settings.send_file_names:
        text = _FILE.sub("[file]", text)
    return text
