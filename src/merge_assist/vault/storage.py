"""Where a vault's file contents and versions live: one small protocol, two backends.

Paths given to a storage are relative to the vault's folder (already validated by
``vault.names``); a version is the id (sha) of a commit that touched the file. Writes are a
compare-and-swap on the file: ``base_version`` must still be the file's newest version (or
``None`` for a file that must not exist yet), else ``StaleVersion`` (409) and nothing is written.

Backends: ``LocalGitStorage`` (a git repository in the data folder, the embedded default) and
``GitLabStorage`` (a folder of a GitLab project, through the REST API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from merge_assist.kit.errors import Conflict, NotFound


@dataclass(frozen=True)
class CommitAuthor:
    """Who a new version is recorded as (the commit's author)."""

    name: str
    email: str


@dataclass(frozen=True)
class StoredFile:
    """A file currently in the vault folder: its path and newest version."""

    path: str
    version: str
    size: int


@dataclass(frozen=True)
class FileVersion:
    """One version of a file: the commit that made it and the content it left."""

    id: str
    author_name: str
    author_email: str
    message: str
    date: datetime
    size: int
    content_sha256: str


class StaleVersion(Conflict):
    """The file changed since the version the writer started from."""

    code = "stale_version"


class FileExists(Conflict):
    """A new file was to be created where one already is."""

    code = "file_exists"


class VersionNotFound(NotFound):
    """The version does not exist or is not a version of this file."""


@runtime_checkable
class VaultStorage(Protocol):
    """Reads and writes one vault's files; every write is one new version (commit)."""

    async def list_files(self) -> list[StoredFile]:
        """Every file in the vault folder (recursively), with its newest version."""
        ...

    async def read(self, path: str, version: str | None = None) -> bytes:
        """The content of ``path`` at ``version`` (newest when ``None``)."""
        ...

    async def write(
        self,
        path: str,
        content: bytes,
        *,
        message: str,
        author: CommitAuthor,
        base_version: str | None,
    ) -> FileVersion:
        """Store ``content`` as the new version of ``path`` (compare-and-swap on the base)."""
        ...

    async def history(self, path: str) -> list[FileVersion]:
        """The versions of ``path``, newest first."""
        ...

    async def version(self, path: str, version: str) -> FileVersion:
        """One version of ``path``; ``VersionNotFound`` if it is not one."""
        ...
