"""A JSON document kept in a GitLab repository and changed by compare-and-swap commits.

Standalone instances share small pieces of state (lock reasons, messages) without a server of
their own. Each change is read → modify → commit, and the commit carries the ``last_commit_id``
the change was based on: GitLab refuses it when the file moved meanwhile, so two writers can
never overwrite each other. The loser re-reads and applies its change again, a bounded number
of times. Nothing is ever truncated before it is written (a defect of the original).

The documents live on their own branch (``merge-assist-state`` by default), not on the default
branch: members can push there when the default branch is protected, and state changes do not
run the project's pipelines or clutter its history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.core import ProjectRef
from merge_assist.gitlab.errors import GitLabConflict, GitLabNotFound, GitLabValidationError
from merge_assist.gitlab.models import CommitAction
from merge_assist.kit.errors import Conflict, MergeAssistError

STATE_BRANCH = "merge-assist-state"
STATE_FOLDER = ".merge-assist/state"
DEFAULT_MAX_ATTEMPTS = 40
_BACKOFF_CAP_SECONDS = 1.0

T = TypeVar("T")
log = logging.getLogger(__name__)


class SharedStateUnreadable(MergeAssistError):
    """The shared file exists but is not a JSON object (edited by hand, or damaged)."""

    status_code = 502
    code = "shared_state_unreadable"


class SharedStateBusy(Conflict):
    """Every attempt lost the compare-and-swap to another writer; try again later."""

    code = "shared_state_busy"


@dataclass(frozen=True)
class Snapshot:
    """The document as read, and what it was read at (the base of the next write)."""

    data: dict[str, Any]
    last_commit_id: str | None  # last commit touching the file; None when the file is absent
    head: str | None  # the branch's head commit; None when the branch is absent
    branch_exists: bool

    @property
    def exists(self) -> bool:
        return self.last_commit_id is not None

    @property
    def version(self) -> tuple[str | None, str | None]:
        return (self.last_commit_id, self.head)


class SharedJsonDocument:
    """One JSON object in a GitLab project, updated with compare-and-swap commits."""

    def __init__(
        self,
        gitlab: GitLabClient,
        project: ProjectRef,
        path: str,
        *,
        branch: str = STATE_BRANCH,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_seconds: float = 0.02,
    ) -> None:
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise ValueError("A shared document needs a relative path inside the repository.")
        self.gitlab = gitlab
        self.project = project
        self.path = path
        self.branch = branch
        self.max_attempts = max(1, max_attempts)
        self.backoff_seconds = backoff_seconds
        self._start_branch: str | None = None

    @classmethod
    def in_state_folder(
        cls, gitlab: GitLabClient, project: ProjectRef, name: str, **options: Any
    ) -> SharedJsonDocument:
        """``.merge-assist/state/<name>.json`` of ``project``."""
        return cls(gitlab, project, f"{STATE_FOLDER}/{name}.json", **options)

    async def read(self) -> Snapshot:
        """The current document (``{}`` when the file or its branch does not exist yet)."""
        try:
            found = await self.gitlab.get_file(self.project, self.path, ref=self.branch)
        except GitLabNotFound:
            try:
                branch = await self.gitlab.get_branch(self.project, self.branch)
            except GitLabNotFound:
                return Snapshot({}, None, None, branch_exists=False)
            return Snapshot({}, None, branch.commit.id if branch.commit else None, True)
        return Snapshot(self._parse(found.decoded()), found.last_commit_id, found.commit_id, True)

    async def update(self, change: Callable[[dict[str, Any]], T], *, message: str) -> T:
        """Apply ``change`` (it mutates the document and returns a result) and commit it.

        ``change`` may run several times, each time on a fresh read, so it must only depend on
        the document it is given; an exception it raises aborts the update with nothing written.
        A change that leaves the document as it was writes nothing.
        """
        for attempt in range(self.max_attempts):
            snapshot = await self.read()
            data = json.loads(json.dumps(snapshot.data))  # a private copy to mutate
            result = change(data)
            if data == snapshot.data:
                return result
            try:
                await self._commit(snapshot, data, message)
            except (GitLabValidationError, GitLabConflict) as refused:
                # GitLab answers 400 (or 409) when our base is stale; it says the same for a
                # genuinely bad request. Only a moved file or branch makes a retry worthwhile.
                if (await self.read()).version == snapshot.version:
                    raise
                log.debug("shared document %s changed meanwhile (%s)", self.path, refused)
                await self._pause(attempt)
                continue
            return result
        raise SharedStateBusy(
            f"{self.path} kept changing under {self.max_attempts} attempts to update it; "
            "try again in a moment."
        )

    async def _commit(self, snapshot: Snapshot, data: dict[str, Any], message: str) -> None:
        content = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        if snapshot.exists:
            action = CommitAction(
                action="update",
                file_path=self.path,
                content=content,
                encoding="text",
                last_commit_id=snapshot.last_commit_id,
            )
        else:
            action = CommitAction(
                action="create", file_path=self.path, content=content, encoding="text"
            )
        start_branch = None if snapshot.branch_exists else await self._default_branch()
        await self.gitlab.create_commit(
            self.project, self.branch, message, [action], start_branch=start_branch
        )

    async def _default_branch(self) -> str | None:
        """Where the state branch starts from (None in an empty project)."""
        if self._start_branch is None:
            project = await self.gitlab.get_project(self.project)
            self._start_branch = project.default_branch or ""
        return self._start_branch or None

    async def _pause(self, attempt: int) -> None:
        # Full jitter: concurrent losers spread out instead of colliding again in lockstep.
        ceiling = min(_BACKOFF_CAP_SECONDS, self.backoff_seconds * (2 ** min(attempt, 10)))
        await asyncio.sleep(ceiling * secrets.randbelow(1001) / 1000)

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError):
            raise SharedStateUnreadable(
                f"{self.path} on branch {self.branch} is not valid JSON; fix or delete it."
            ) from None
        if not isinstance(data, dict):
            raise SharedStateUnreadable(
                f"{self.path} on branch {self.branch} must hold a JSON object."
            )
        return data
