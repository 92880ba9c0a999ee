"""Comparing two versions of a file (pure): a unified text diff, or a metadata diff for binary.

Whether a file is text is decided by its content, never its extension: a NUL byte, or bytes
that are not UTF-8, make it binary (Mastercam files are binary; G-code ``.nc`` is text).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# A text diff of huge files is unreadable and costly; beyond this, compare metadata instead.
MAX_TEXT_DIFF_BYTES = 2 * 1024 * 1024


def is_text(content: bytes) -> bool:
    """Whether ``content`` is UTF-8 text without NUL bytes."""
    if b"\0" in content:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class VersionFacts:
    """What the metadata diff compares of one version."""

    version: str
    size: int
    content_sha256: str
    author: str
    date: datetime


@dataclass(frozen=True)
class FieldChange:
    """One metadata field in the two versions."""

    field: str
    old: str | int
    new: str | int

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class VersionDiff:
    """A comparison: ``text`` with a unified diff, or metadata changes only for ``binary``
    content and for text too large to read as a diff (``too_large``)."""

    kind: Literal["text", "binary", "too_large"]
    unified: str | None
    changes: tuple[FieldChange, ...]
    identical: bool


def compare(
    path: str, old: VersionFacts, old_content: bytes, new: VersionFacts, new_content: bytes
) -> VersionDiff:
    """Diff two versions of ``path``: a unified diff if both are (small enough) text."""
    changes = metadata_changes(old, new)
    identical = old.content_sha256 == new.content_sha256
    if not (is_text(old_content) and is_text(new_content)):
        return VersionDiff("binary", None, changes, identical)
    if max(len(old_content), len(new_content)) > MAX_TEXT_DIFF_BYTES:
        return VersionDiff("too_large", None, changes, identical)
    lines = difflib.unified_diff(
        old_content.decode("utf-8").splitlines(keepends=True),
        new_content.decode("utf-8").splitlines(keepends=True),
        fromfile=f"a/{path}@{old.version[:12]}",
        tofile=f"b/{path}@{new.version[:12]}",
    )
    unified = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return VersionDiff("text", unified, changes, identical)


def metadata_changes(old: VersionFacts, new: VersionFacts) -> tuple[FieldChange, ...]:
    """Size, content hash, author and date of both versions."""
    return (
        FieldChange("size", old.size, new.size),
        FieldChange("content_sha256", old.content_sha256, new.content_sha256),
        FieldChange("author", old.author, new.author),
        FieldChange("date", old.date.isoformat(), new.date.isoformat()),
    )
