"""Names only the system may wear (pure): nobody poses as the product in messages.

System messages are shown as sent by ``SYSTEM_DISPLAY_NAME`` ("Merge Assist"). A user whose
username or display name reads the same — in any case, with spaces, dots, dashes or accents
added, in full-width letters or with look-alike digits (``merge_assist``, ``MERGE-ASSIST``,
``Mërge Ass1st``, ``System``) — could pass their messages off as the system's. Such names are
refused when a person picks them (422) and changed when GitLab sign-in registers a user
(``(GitLab)`` is added to the display name; the username gets ``-gitlab``).
"""

from __future__ import annotations

import unicodedata

from merge_assist.kit.errors import Unprocessable

SYSTEM_DISPLAY_NAME = "Merge Assist"
# Look-alike characters read as the letter they imitate.
_LOOK_ALIKES = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",
        "|": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "$": "s",
        "@": "a",
    }
)
_RESERVED_SKELETONS = frozenset({"mergeassist", "system", "mergeassistsystem"})
GITLAB_DISPLAY_SUFFIX = " (GitLab)"


def skeleton(name: str) -> str:
    """``name`` reduced to what a reader sees: case, accents, width, look-alikes and every
    character that is not a letter or a digit removed."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name).casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "".join(ch for ch in plain.translate(_LOOK_ALIKES) if ch.isalnum())


def is_reserved(name: str) -> bool:
    """Whether ``name`` reads as the system's own name."""
    return skeleton(name) in _RESERVED_SKELETONS


def refuse_reserved(name: str, what: str) -> None:
    """``Unprocessable`` (422) when ``name`` (a ``what``: username, display name) is reserved."""
    if is_reserved(name):
        raise Unprocessable(
            f"The {what} {name!r} reads as {SYSTEM_DISPLAY_NAME!r}, the name of the system's "
            "own messages; choose another one."
        )


def unreserved_display_name(name: str, max_length: int) -> str:
    """``name``, or ``name (GitLab)`` when it reads as the system's (for GitLab sign-in)."""
    if not is_reserved(name):
        return name[:max_length]
    return name[: max_length - len(GITLAB_DISPLAY_SUFFIX)] + GITLAB_DISPLAY_SUFFIX
