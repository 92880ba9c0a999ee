"""What kind of failure a strike or rejection was (pure): the dashboard's "Failures by reason"
groups by these kinds and keeps the raw messages as details.

A history entry carries its reasons as written for the author (``reasons``: a bullet list,
``- pipeline #10 failed for 0b5c1cf3``), the engine's comment template (``cause``:
``rebase_failed``, ``batch_conflict``, ``batch_failed``, ``not_ready``) or, from other writers,
a ``reason``. Each message is matched against the kinds in order; an entry counts once per kind
it shows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_CHARS = 200

# (kind, label, causes, pattern over the lower-cased message); first match wins, so the batch
# culprit ("the batch pipeline failed because of it") is found before "pipeline failed".
KINDS: tuple[tuple[str, str, frozenset[str], re.Pattern[str]], ...] = (
    (
        "culprit",
        "Batch or train culprit",
        frozenset({"batch_failed"}),
        re.compile(r"culprit|because of it|train car"),
    ),
    (
        "conflict",
        "Conflict",
        frozenset({"rebase_failed", "batch_conflict", "conflicts"}),
        re.compile(r"conflict"),
    ),
    (
        "pipeline_failed",
        "Pipeline failed",
        frozenset({"pipeline_failed"}),
        re.compile(r"pipeline\b.*\b(failed|canceled|cancelled)|no pipeline"),
    ),
    (
        "approvals",
        "Approvals",
        frozenset({"approvals", "requested_changes"}),
        re.compile(r"approv|requested changes"),
    ),
    ("discussions", "Discussions", frozenset({"discussions"}), re.compile(r"discussion")),
    ("draft", "Draft", frozenset({"draft"}), re.compile(r"\bdraft\b")),
    ("timeout", "Timeout", frozenset({"timeout"}), re.compile(r"timed? ?out")),
)
OTHER = ("other", "Other")
LABELS = {kind: label for kind, label, _, _ in KINDS} | {OTHER[0]: OTHER[1]}


def messages_of(details: Mapping[str, Any]) -> list[str]:
    """The raw messages of one entry: each bullet of ``reasons``, else ``reason``, else the
    ``cause``; ``unknown`` when it has none."""
    for key in ("reasons", "reason", "cause"):
        value = details.get(key)
        if isinstance(value, str) and value.strip():
            lines = [line.strip().removeprefix("- ").strip() for line in value.splitlines()]
            return [line[:MAX_MESSAGE_CHARS] for line in lines if line] or ["unknown"]
    return ["unknown"]


def kind_of(message: str, cause: str | None = None) -> str:
    """The kind of one message (``cause``, the engine's template, decides when it is known)."""
    lowered = message.lower()
    for kind, _label, causes, pattern in KINDS:
        if cause in causes or lowered in causes or pattern.search(lowered):
            return kind
    return OTHER[0]


def kinds_of(details: Mapping[str, Any]) -> dict[str, list[str]]:
    """The kinds one entry shows, each with its messages."""
    cause = details.get("cause") if isinstance(details.get("cause"), str) else None
    found: dict[str, list[str]] = {}
    for message in messages_of(details):
        found.setdefault(kind_of(message, cause), []).append(message)
    return found
