"""What a vault file may be called, checked without I/O.

A name is a path relative to the vault's folder (``parts/bracket.mcam`` or ``bracket.mcam``):
segments separated by ``/``, none empty, ``.`` or ``..``, none longer than 255 characters, no
control characters or backslashes, no leading ``/`` or drive letter, and an allowed extension.
Each segment must also be a name Windows can create (``gitlab.paths.windows_problem``: no
``CON``/``aux.nc``/``LPT1``..., none of ``:*?"<>|``, no trailing dot or space), since shops clone
vault repositories on Windows. Every refusal is ``Unprocessable`` (422) with a sentence a person
understands. A name differing only by case from a file already in the vault is refused by
``case_clash`` (409 in ``vault.actions``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from merge_assist.gitlab.paths import MAX_PATH, MAX_SEGMENT, has_controls, windows_problem
from merge_assist.kit.errors import Unprocessable

MAX_DEPTH = 16


def parse_extensions(value: str | Iterable[str]) -> frozenset[str]:
    """``".mcam,.nc"`` (or a list) as lower-case extensions with their leading dot."""
    items = value.split(",") if isinstance(value, str) else list(value)
    cleaned = set()
    for item in items:
        ext = item.strip().lower()
        if not ext:
            continue
        cleaned.add(ext if ext.startswith(".") else "." + ext)
    return frozenset(cleaned)


def clean_name(name: str, allowed_extensions: frozenset[str]) -> str:
    """The validated relative path of a vault file (NFC-normalised); 422 otherwise."""
    value = unicodedata.normalize("NFC", name.strip())
    if not value:
        raise Unprocessable("The file name must not be empty.")
    if len(value) > MAX_PATH:
        raise Unprocessable(f"The file path has more than {MAX_PATH} characters.")
    if has_controls(value):
        raise Unprocessable("The file name must not contain control characters.")
    if "\\" in value:
        raise Unprocessable("Use '/' between folders; '\\' is not allowed in a file name.")
    if value.startswith("/") or (len(value) > 1 and value[1] == ":"):
        raise Unprocessable("The file name must be relative to the vault, not an absolute path.")
    segments = value.split("/")
    if len(segments) > MAX_DEPTH:
        raise Unprocessable(f"A file may sit at most {MAX_DEPTH - 1} folders deep.")
    for segment in segments:
        _check_segment(segment)
    extension = _extension(segments[-1])
    if extension not in allowed_extensions:
        allowed = ", ".join(sorted(allowed_extensions)) or "none"
        shown = extension or "no extension"
        raise Unprocessable(
            f"Files with {shown!r} cannot be kept in the vault; allowed extensions: {allowed}."
        )
    return value


def is_acceptable(name: str, allowed_extensions: frozenset[str]) -> bool:
    """Whether ``name`` is already a clean vault name (what ``clean_name`` returns unchanged)."""
    try:
        return clean_name(name, allowed_extensions) == name
    except Unprocessable:
        return False


def _check_segment(segment: str) -> None:
    if segment in ("", ".", ".."):
        raise Unprocessable(
            "The file name must not contain empty, '.' or '..' parts (no leaving the vault)."
        )
    if len(segment) > MAX_SEGMENT:
        raise Unprocessable(
            f"A file or folder name has {len(segment)} characters; at most {MAX_SEGMENT}."
        )
    if segment != segment.strip() or segment.endswith("."):
        raise Unprocessable(
            "A file or folder name must not start or end with a space or end with '.'."
        )
    if segment.lower() in (".git", ".gitattributes", ".gitignore", ".gitmodules"):
        raise Unprocessable(f"{segment!r} is reserved by git and cannot be a vault file.")
    problem = windows_problem(segment)
    if problem is not None:
        raise Unprocessable(problem)


def case_clash(path: str, existing: Iterable[str]) -> str | None:
    """The existing path that ``path`` (or one of its folders) equals but for case, if any:
    Windows and macOS clones would hold only one of the two."""
    wanted = path.split("/")
    for other in existing:
        if other == path:
            continue
        theirs = other.split("/")
        shared = min(len(wanted), len(theirs))
        for index in range(shared):
            mine, their = wanted[index], theirs[index]
            if mine == their:
                continue
            if mine.casefold() == their.casefold():
                return other
            break
    return None


def _extension(filename: str) -> str:
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        return ""
    return "." + ext.lower()
