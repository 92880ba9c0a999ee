"""Paths inside a repository, checked without I/O: the folder a vault's files live in.

A vault bound to a GitLab project (and a standalone instance's binding) keeps its files in one
folder of the repository: ``""`` (the root) or a plain relative path like ``cnc/programs``,
never leaving the repository. Every refusal is ``Unprocessable`` (422) with a sentence.

Shops clone these repositories on Windows, so every folder and file name must also be one
Windows can create (:func:`windows_problem`): no reserved device name (``CON``, ``PRN``,
``AUX``, ``NUL``, ``COM1``-``COM9``, ``LPT1``-``LPT9``, in any case and with any extension:
``aux.nc``), none of ``:*?"<>|``, and no trailing dot or space.
"""

from __future__ import annotations

import unicodedata

from merge_assist.kit.errors import Unprocessable

MAX_SEGMENT = 255
MAX_PATH = 1024
WINDOWS_FORBIDDEN_CHARACTERS = ':*?"<>|'
_DIGITS = "123456789\u00b9\u00b2\u00b3"  # Windows reserves COM¹..COM³ and LPT¹..LPT³ too
WINDOWS_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{digit}" for digit in _DIGITS}
    | {f"LPT{digit}" for digit in _DIGITS}
)


def windows_problem(segment: str) -> str | None:
    """Why Windows cannot hold a file or folder called ``segment`` (None: it can)."""
    bad = sorted({ch for ch in segment if ch in WINDOWS_FORBIDDEN_CHARACTERS})
    if bad:
        shown = " ".join(bad)
        return (
            f"{segment!r} contains {shown}, which Windows does not allow in a file or folder "
            f"name (none of {WINDOWS_FORBIDDEN_CHARACTERS})."
        )
    if segment != segment.rstrip(" .") or segment != segment.lstrip(" "):
        return f"{segment!r} starts or ends with a space or ends with '.', which Windows drops."
    device = segment.split(".", 1)[0].rstrip(" ").upper()
    if device in WINDOWS_RESERVED_NAMES:
        return (
            f"{segment!r} is a reserved device name on Windows ({device}, with any extension "
            "and in any case); choose another name."
        )
    return None


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a control, format or line/paragraph separator character."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def clean_folder(folder: str) -> str:
    """A vault's folder inside its repository: ``""`` (the root) or ``a/b`` without traversal."""
    value = folder.strip().strip("/")
    if not value:
        return ""
    if has_controls(value) or "\\" in value or len(value) > MAX_PATH:
        raise Unprocessable("The vault folder must be a plain relative path like 'cnc/programs'.")
    for segment in value.split("/"):
        if segment in ("", ".", "..") or len(segment) > MAX_SEGMENT:
            raise Unprocessable(
                "The vault folder must not contain empty, '.' or '..' parts or over-long names."
            )
        problem = windows_problem(segment)
        if problem is not None:
            raise Unprocessable(f"The vault folder cannot be used: {problem}")
    return value
