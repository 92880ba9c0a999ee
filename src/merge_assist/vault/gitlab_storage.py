"""A vault kept in a folder of a GitLab project, through the REST API (no clone).

Reads go through the bot's client. A write is one ``POST /repository/commits`` whose action
carries ``last_commit_id``: GitLab refuses it when the file changed since the base version,
so two writers can never both land (GitLab is the arbiter). A write goes only through the
``writer`` given, a client holding the acting user's *own* token, so GitLab records them as
the author and committer and checks their own access; without one, writes are refused with
``no_writer`` (a sentence) — never sent with the bot's token.

Version metadata (size, SHA-256) comes from ``HEAD`` on the files API at that commit (no
content transferred) and is kept per process: a commit's content never changes.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from merge_assist.gitlab import (
    GitAuthor,
    GitLabAuthError,
    GitLabClient,
    GitLabForbidden,
    GitLabNotFound,
    GitLabValidationError,
)
from merge_assist.gitlab.models import Commit, CommitAction, RepositoryFileMetadata
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Forbidden
from merge_assist.vault.local_storage import checked_version
from merge_assist.vault.storage import (
    CommitAuthor,
    FileExists,
    FileVersion,
    StaleVersion,
    StoredFile,
    VersionNotFound,
)

ClientFactory = Callable[[], GitLabClient]
NO_WRITER = (
    "This vault is kept in GitLab and changes are committed with your own GitLab access; "
    "sign in with a GitLab personal access token (scope 'api'), then try again."
)
_CACHE_SIZE = 4096
# (project, commit, path) -> (size, sha256): immutable facts of one commit.
_facts: OrderedDict[tuple[int | str, str, str], tuple[int, str]] = OrderedDict()


class GitLabStorage:
    """The files of ``folder`` on ``branch`` of the GitLab project ``project``."""

    def __init__(
        self,
        bot: ClientFactory,
        project: int | str,
        *,
        branch: str,
        folder: str = "",
        writer: ClientFactory | None = None,
        no_writer: str = NO_WRITER,
    ) -> None:
        self.bot = bot
        self.writer = writer
        self.no_writer = no_writer
        self.project = project
        self.branch = branch
        self.folder = folder.strip("/")

    def __repr__(self) -> str:
        return f"GitLabStorage(project={self.project!r}, branch={self.branch!r})"

    def _full(self, path: str) -> str:
        return f"{self.folder}/{path}" if self.folder else path

    async def list_files(self) -> list[StoredFile]:
        """Every file under the folder, with its newest version (one HEAD call per file)."""
        async with self.bot() as gitlab:
            try:
                entries = await gitlab.tree(
                    self.project, path=self.folder or None, ref=self.branch, recursive=True
                )
            except GitLabNotFound:
                return []  # an empty repository or a folder not created yet
            files = []
            for entry in entries:
                if entry.type != "blob":
                    continue
                found = await gitlab.file_metadata(self.project, entry.path, ref=self.branch)
                relative = entry.path[len(self.folder) + 1 :] if self.folder else entry.path
                files.append(StoredFile(relative, found.last_commit_id or "", found.size))
        return sorted(files, key=lambda f: f.path)

    async def read(self, path: str, version: str | None = None) -> bytes:
        """The bytes of ``path`` at ``version`` (the branch's newest when ``None``)."""
        ref = checked_version(version) if version else self.branch
        async with self.bot() as gitlab:
            try:
                return await gitlab.get_raw_file(self.project, self._full(path), ref=ref)
            except GitLabNotFound:
                raise VersionNotFound(f"{path!r} has no version {ref[:12]}.") from None

    async def write(
        self,
        path: str,
        content: bytes,
        *,
        message: str,
        author: CommitAuthor,
        base_version: str | None,
    ) -> FileVersion:
        """Commit ``content`` with ``last_commit_id`` = ``base_version`` (GitLab's CAS)."""
        full = self._full(path)
        action = CommitAction.with_bytes(
            "create" if base_version is None else "update",
            full,
            content,
            last_commit_id=checked_version(base_version) if base_version else None,
        )
        if self.writer is None:
            raise Forbidden(self.no_writer)
        async with self.writer() as gitlab:
            try:
                commit = await gitlab.create_commit(
                    self.project,
                    self.branch,
                    message,
                    [action],
                    author=GitAuthor(author.name, author.email),
                )
            except GitLabValidationError as exc:
                raise _refusal(path, base_version, exc) from exc
            except (GitLabForbidden, GitLabAuthError) as exc:
                raise _user_token_refused(exc) from exc
        sha256 = hashlib.sha256(content).hexdigest()
        _remember((self.project, commit.id, full), (len(content), sha256))
        return _version(commit, len(content), sha256)

    async def history(self, path: str) -> list[FileVersion]:
        """The commits that touched ``path`` on the branch, newest first."""
        full = self._full(path)
        async with self.bot() as gitlab:
            commits = await gitlab.file_history(self.project, full, ref=self.branch)
            versions = []
            for commit in commits:
                facts = await self._facts(gitlab, full, commit.id)
                if facts is not None:  # None: this commit deleted the file
                    versions.append(_version(commit, *facts))
        return versions

    async def version(self, path: str, version: str) -> FileVersion:
        """One version of ``path``; ``VersionNotFound`` unless that commit touched it."""
        full = self._full(path)
        sha = checked_version(version)
        async with self.bot() as gitlab:
            try:
                commit = await gitlab.get_commit(self.project, sha)
                found = await gitlab.file_metadata(self.project, full, ref=commit.id)
            except GitLabNotFound:
                raise VersionNotFound(f"There is no version {version!r} of {path!r}.") from None
            if found.last_commit_id != commit.id:
                raise VersionNotFound(f"{version!r} is not a version of {path!r}.")
            facts = _facts_of(found)
            _remember((self.project, commit.id, full), facts)
        return _version(commit, *facts)

    async def _facts(self, gitlab: GitLabClient, full: str, sha: str) -> tuple[int, str] | None:
        key = (self.project, sha, full)
        if key in _facts:
            return _facts[key]
        try:
            found = await gitlab.file_metadata(self.project, full, ref=sha)
        except GitLabNotFound:
            return None
        facts = _facts_of(found)
        _remember(key, facts)
        return facts


def _facts_of(found: RepositoryFileMetadata) -> tuple[int, str]:
    return found.size, found.content_sha256 or ""


def _remember(key: tuple[int | str, str, str], facts: tuple[int, str]) -> None:
    _facts[key] = facts
    if len(_facts) > _CACHE_SIZE:
        _facts.popitem(last=False)


def _version(commit: Commit, size: int, sha256: str) -> FileVersion:
    date: datetime = commit.authored_date or commit.committed_date or commit.created_at or utcnow()
    return FileVersion(
        id=commit.id,
        author_name=commit.author_name or "",
        author_email=commit.author_email or "",
        message=(commit.message or commit.title).strip(),
        date=date,
        size=size,
        content_sha256=sha256,
    )


def _user_token_refused(exc: GitLabForbidden | GitLabAuthError) -> Forbidden:
    """GitLab would not take the commit from the user's own token: say what they can do."""
    if isinstance(exc, GitLabAuthError):
        return Forbidden(
            "GitLab no longer accepts the GitLab token you signed in with (expired or revoked); "
            "sign in again with a new token, then check in again."
        )
    return Forbidden(
        "GitLab refused this commit with your own GitLab token: your account may not push to "
        "the vault's branch. Ask a maintainer for Developer access (or to allow pushes to the "
        "branch), then check in again."
    )


def _refusal(path: str, base_version: str | None, exc: GitLabValidationError) -> Exception:
    reason = exc.message.lower()
    if "already exists" in reason:
        return FileExists(f"{path!r} is already in the vault's GitLab folder.")
    if "changed since" in reason or "does not exist" in reason or "doesn't exist" in reason:
        shown = base_version[:12] if base_version else "?"
        return StaleVersion(
            f"{path!r} changed in GitLab since version {shown}; download the newest version "
            "and apply your change to it."
        )
    return exc
