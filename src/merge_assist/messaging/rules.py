"""What a message may hold, checked without I/O: recipients, subject, body, related refs.

Every refusal is ``Unprocessable`` (422) with a sentence a person understands.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from merge_assist.kit.errors import Unprocessable

BROADCAST: Literal["all"] = "all"
MAX_SUBJECT = 200
MAX_BODY = 5000
MAX_FILE_REF = 1024
MAX_MR_REF = 300
MAX_RECIPIENTS = 100
MAX_USERNAME = 64
MAX_PROJECT_ID = 2**63 - 1
MAX_IID = 2**31 - 1

# ``42!7`` or ``group/sub.group/project-name!12`` (GitLab's own reference form).
_PATH_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_MR_REF = re.compile(rf"(?P<project>[0-9]+|{_PATH_SEGMENT}(/{_PATH_SEGMENT})*)!(?P<iid>[0-9]+)")
_BODY_CONTROLS_ALLOWED = frozenset("\n\r\t")


@dataclass(frozen=True)
class Recipients:
    """Who a message goes to: everyone (``broadcast``) or the named users (lowercase)."""

    broadcast: bool
    usernames: tuple[str, ...] = ()


def parse_recipients(to: str | Sequence[str]) -> Recipients:
    """``"all"``, one username, or a list of usernames (deduplicated, any case)."""
    names = [to] if isinstance(to, str) else list(to)
    if not names:
        raise Unprocessable("Say who the message is for: a username, a list of them, or 'all'.")
    cleaned: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise Unprocessable("A recipient must be a username, not an empty value.")
        lowered = name.strip().lower()
        if len(lowered) > MAX_USERNAME:
            raise Unprocessable(f"A username has at most {MAX_USERNAME} characters.")
        if lowered not in cleaned:
            cleaned.append(lowered)
    if BROADCAST in cleaned:
        if len(cleaned) > 1:
            raise Unprocessable("'all' already includes everyone; send it without other names.")
        return Recipients(broadcast=True)
    if len(cleaned) > MAX_RECIPIENTS:
        raise Unprocessable(
            f"A message can name at most {MAX_RECIPIENTS} recipients; use 'all' for everyone."
        )
    return Recipients(broadcast=False, usernames=tuple(cleaned))


def _has_controls(text: str, allowed: frozenset[str] = frozenset()) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def clean_subject(subject: str) -> str:
    """The subject without surrounding spaces: one line of 1 to 200 characters."""
    value = subject.strip()
    if not value:
        raise Unprocessable("The subject must not be empty.")
    if len(value) > MAX_SUBJECT:
        raise Unprocessable(
            f"The subject has {len(value)} characters; at most {MAX_SUBJECT} are allowed."
        )
    if _has_controls(value):
        raise Unprocessable("The subject must be a single line without control characters.")
    return value


def clean_body(body: str) -> str:
    """The body as written (1 to 5000 characters, not only spaces; lines and tabs allowed)."""
    if not body.strip():
        raise Unprocessable("The message body must not be empty.")
    if len(body) > MAX_BODY:
        raise Unprocessable(f"The body has {len(body)} characters; at most {MAX_BODY} are allowed.")
    if _has_controls(body, _BODY_CONTROLS_ALLOWED):
        raise Unprocessable("The body must not contain control characters other than line breaks.")
    return body


def clean_file_ref(related_file: str | None) -> str | None:
    """A vault file id or path (up to 1024 characters); blank means none."""
    if related_file is None or not related_file.strip():
        return None
    value = related_file.strip()
    if len(value) > MAX_FILE_REF:
        raise Unprocessable(f"The related file reference has more than {MAX_FILE_REF} characters.")
    if _has_controls(value):
        raise Unprocessable("The related file reference must not contain control characters.")
    return value


def mr_ref(related_mr: str | tuple[int | str, int] | None) -> str | None:
    """A merge request reference as stored: ``<project id or path>!<iid>``; blank means none.

    Accepts ``"group/proj!12"``, ``"42!7"`` or a ``(project, iid)`` pair.
    """
    if related_mr is None:
        return None
    if isinstance(related_mr, tuple):
        project, iid = related_mr
        value = f"{str(project).strip()}!{iid}"
    else:
        if not related_mr.strip():
            return None
        value = related_mr.strip()
    match = _MR_REF.fullmatch(value) if len(value) <= MAX_MR_REF else None
    if match is None:
        raise Unprocessable(
            "A merge request reference looks like 'group/project!12' or '42!12' "
            f"(project path or id, '!', the MR number; at most {MAX_MR_REF} characters)."
        )
    iid = int(match["iid"])
    project = match["project"]
    if not 1 <= iid <= MAX_IID or (project.isdigit() and not 1 <= int(project) <= MAX_PROJECT_ID):
        raise Unprocessable("The merge request reference has a project id or number out of range.")
    # Leading zeros would make "42!7" and "042!07" two different references.
    normal_project = str(int(project)) if project.isdigit() else project
    return f"{normal_project}!{iid}"
