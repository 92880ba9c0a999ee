"""Value types and errors of the sandbox's git layer (no I/O here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

ZERO_SHA = "0" * 40

ActionKind = Literal["create", "update", "delete", "move", "chmod"]
EntryType = Literal["tree", "blob", "commit"]


@dataclass(frozen=True)
class Identity:
    """Who wrote or committed something, and when (``None``: the repository's clock)."""

    name: str
    email: str
    when: datetime | None = None


@dataclass(frozen=True)
class FileAction:
    """One action of GitLab's ``POST /projects/:id/repository/commits``."""

    action: ActionKind
    file_path: str
    content: bytes | None = None
    previous_path: str | None = None
    last_commit_id: str | None = None
    execute_filemode: bool | None = None


@dataclass(frozen=True)
class StartPoint:
    """Where a commit's branch starts when it does not exist yet (or is overwritten with
    ``force``): GitLab's ``start_branch``/``start_sha``/``force`` of the commits API."""

    branch: str | None = None
    sha: str | None = None
    force: bool = False


@dataclass(frozen=True)
class CommitInfo:
    """A commit as GitLab's commits API describes it."""

    id: str
    short_id: str
    tree_id: str
    parent_ids: list[str]
    title: str
    message: str
    author: Identity
    committer: Identity
    authored_date: datetime
    committed_date: datetime


@dataclass(frozen=True)
class TreeEntry:
    """One entry of the repository tree API (``path`` is relative to the repository root)."""

    id: str
    name: str
    type: EntryType
    path: str
    mode: str


@dataclass(frozen=True)
class FileDiff:
    """One changed file, shaped like an entry of GitLab's ``diffs`` / ``changes``."""

    old_path: str
    new_path: str
    a_mode: str
    b_mode: str
    diff: str
    new_file: bool
    renamed_file: bool
    deleted_file: bool


class GitError(Exception):
    """A git operation was refused; the message is fit for a 400 response."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownRevision(GitError):
    """A branch, tag or commit that does not exist (GitLab answers 404)."""


class MergeConflict(GitError):
    """Two sides change the same lines or files; ``conflicting_paths`` lists them."""

    def __init__(self, message: str, conflicting_paths: list[str]) -> None:
        super().__init__(message)
        self.conflicting_paths = conflicting_paths


class StaleFile(GitError):
    """A ``last_commit_id`` compare-and-swap failed (GitLab answers 400)."""


class RefMoved(GitError):
    """A branch no longer points where the caller expected (compare-and-swap failed)."""


_IDENTITY_LINE = re.compile(
    r"^(?P<name>.*?) ?<(?P<email>[^>]*)> (?P<epoch>-?\d+) (?P<tz>[+-]\d{4})$"
)


def parse_identity(line: str) -> Identity:
    """An ``author``/``committer`` header value (``Name <email> 1700000000 +0200``)."""
    match = _IDENTITY_LINE.match(line)
    if match is None:
        return Identity(name=line, email="", when=datetime.fromtimestamp(0, UTC))
    tz = match["tz"]
    minutes = int(tz[1:3]) * 60 + int(tz[3:5])
    offset = timezone(timedelta(minutes=-minutes if tz[0] == "-" else minutes))
    when = datetime.fromtimestamp(int(match["epoch"]), offset)
    return Identity(name=match["name"], email=match["email"], when=when)


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """A raw commit object as ``CommitInfo`` (headers, then a blank line, then the message)."""
    header_block, _, body = raw.partition(b"\n\n")
    tree_id = ""
    parents: list[str] = []
    author = committer = Identity(name="", email="", when=datetime.fromtimestamp(0, UTC))
    for line in header_block.decode(errors="replace").split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree":
            tree_id = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = parse_identity(value)
        elif key == "committer":
            committer = parse_identity(value)
    message = body.decode(errors="replace")
    assert author.when is not None
    assert committer.when is not None
    return CommitInfo(
        id=sha,
        short_id=sha[:8],
        tree_id=tree_id,
        parent_ids=parents,
        title=message.split("\n", 1)[0],
        message=message,
        author=author,
        committer=committer,
        authored_date=author.when,
        committed_date=committer.when,
    )


_FORBIDDEN_REF_CHARACTERS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def is_valid_branch_name(name: str) -> bool:
    """Whether ``refs/heads/<name>`` passes ``git check-ref-format`` (and is not ``HEAD``)."""
    if not name or name in ("HEAD", "@") or name.startswith("-"):
        return False
    if _FORBIDDEN_REF_CHARACTERS.search(name) or ".." in name or "@{" in name or "//" in name:
        return False
    if name.startswith("/") or name.endswith(("/", ".")):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))
