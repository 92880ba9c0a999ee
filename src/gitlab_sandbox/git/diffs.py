"""Tree-to-tree diffs shaped like GitLab's ``diffs`` entries (``@@`` hunks, no git headers)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gitlab_sandbox.git.objects import FileDiff
from gitlab_sandbox.git.trees import decode_name

if TYPE_CHECKING:
    from gitlab_sandbox.git.repo import BareRepo

_DIFF_OPTIONS = ("-r", "-M", "--no-ext-diff", "--no-textconv", "--no-color")
_SECTION_START = re.compile(rb"^diff --git ", re.MULTILINE)


def diff_commits(repo: BareRepo, base: str, head: str) -> list[FileDiff]:
    """Every file changed between two commits, in git's path order."""
    _, raw = repo.git("diff-tree", *_DIFF_OPTIONS, "-z", "--raw", base, head)
    changes = parse_raw(raw)
    if not changes:
        return []
    _, patch = repo.git("diff-tree", *_DIFF_OPTIONS, "-p", "--full-index", base, head)
    hunks = split_patch(patch)
    return [
        FileDiff(
            old_path=old_path,
            new_path=new_path,
            a_mode=a_mode,
            b_mode=b_mode,
            diff=hunks[index] if index < len(hunks) else "",
            new_file=status == "A",
            renamed_file=status == "R",
            deleted_file=status == "D",
        )
        for index, (status, a_mode, b_mode, old_path, new_path) in enumerate(changes)
    ]


def parse_raw(raw: bytes) -> list[tuple[str, str, str, str, str]]:
    """``(status, a_mode, b_mode, old_path, new_path)`` from ``diff-tree --raw -z`` output."""
    fields = raw.split(b"\0")
    changes: list[tuple[str, str, str, str, str]] = []
    position = 0
    while position < len(fields) and fields[position].startswith(b":"):
        meta = fields[position][1:].decode().split(" ")
        a_mode, b_mode, status = meta[0], meta[1], meta[4][0]
        old_path = decode_name(fields[position + 1])
        if status in ("R", "C"):
            new_path = decode_name(fields[position + 2])
            position += 3
        else:
            new_path = old_path
            position += 2
        changes.append((status, _mode(a_mode), _mode(b_mode), old_path, new_path))
    return changes


def split_patch(patch: bytes) -> list[str]:
    """The body of each file's patch (from its first ``@@`` line), in order."""
    starts = [match.start() for match in _SECTION_START.finditer(patch)]
    bodies: list[str] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(patch)
        section = patch[start:end]
        hunk = section.find(b"\n@@")
        if hunk >= 0:
            bodies.append(section[hunk + 1 :].decode(errors="replace"))
        else:
            binary = re.search(rb"^Binary files .*\n", section, re.MULTILINE)
            bodies.append(binary.group(0).decode(errors="replace") if binary else "")
    return bodies


def _mode(mode: str) -> str:
    return "0" if set(mode) == {"0"} else mode
