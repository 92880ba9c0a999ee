"""Paths inside a repository, checked without I/O: the folder a vault's files live in.

A vault bound to a GitLab project (and a standalone instance's binding) keeps its files in one
folder of the repository: ``""`` (the root) or a plain relative path like ``cnc/programs``,
never leaving the repository. Every refusal is ``Unprocessable`` (422) with a sentence.
"""

from __future__ import annotations

import unicodedata

from merge_assist.kit.errors import Unprocessable

MAX_SEGMENT = 255
MAX_PATH = 1024


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
    return value
