"""Exclusive check-outs arbitrated by GitLab's Git LFS lock API (standalone mode).

Every standalone instance acts with its own user's GitLab token, so GitLab decides: of any
number of concurrent ``acquire`` calls on one path, from any number of machines, GitLab creates
exactly one lock and answers the others 409 with the holder. There is no read-then-write
decision on our side that two machines could both pass. Releasing someone else's lock needs
``force`` and the Maintainer role in the project (GitLab's rule, enforced by GitLab).

The LFS API keeps no reason, so reasons (and the version a holder started from) live in a
shared JSON document keyed by lock id; GitLab's lock stays the only source of truth for who
holds what, and a reason entry is believed only when it matches GitLab's lock.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.errors import (
    GitLabError,
    GitLabForbidden,
    GitLabLockConflict,
    GitLabNotFound,
)
from merge_assist.gitlab.models import LfsLock, User
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Conflict, Forbidden, Unprocessable
from merge_assist.standalone.shared_json import SharedJsonDocument

MAX_REASON = 500
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lock:
    """A check-out as GitLab holds it, with the reason and base version shared beside it."""

    lock_id: str
    path: str
    holder_name: str  # GitLab's display name of the owner (what the LFS API tells)
    since: datetime | None
    reason: str = ""
    holder_username: str | None = None  # from the shared entry, when it matches the lock
    base_version: str | None = None
    mine: bool | None = None  # known when read through ``verify``; None otherwise

    def sentence(self) -> str:
        """``'a.mcam' is checked out by Alice since 2026-11-22 09:15 UTC: reason``."""
        when = f" since {self.since:%Y-%m-%d %H:%M UTC}" if self.since else ""
        why = f": {self.reason}" if self.reason else " (no reason recorded yet)"
        return f"{self.path!r} is checked out by {self.holder_name}{when}{why}"


class LockHeld(Conflict):
    """409: someone holds the path; names the holder, since when and why."""

    code = "lock_held"

    def __init__(self, lock: Lock) -> None:
        super().__init__(
            lock.sentence() + ".",
            details={
                "holder": {"name": lock.holder_name, "username": lock.holder_username},
                "since": lock.since.isoformat() if lock.since else None,
                "reason": lock.reason,
            },
        )
        self.lock = lock

    @property
    def holder_name(self) -> str:
        return self.lock.holder_name

    @property
    def since(self) -> datetime | None:
        return self.lock.since

    @property
    def reason(self) -> str:
        return self.lock.reason


class NotLocked(Conflict):
    """409: the path is not checked out (nothing to release)."""

    code = "not_locked"


class LockNotYours(Forbidden):
    """403: the lock belongs to someone else and was not forced (or forcing is not allowed)."""

    code = "lock_not_yours"


def clean_reason(reason: str) -> str:
    """A check-out reason: 1-500 characters after trimming, no control characters."""
    text = " ".join(reason.split())
    if not text:
        raise Unprocessable("Say why you check the file out (a reason is required).")
    if len(text) > MAX_REASON:
        raise Unprocessable(f"The reason is too long: at most {MAX_REASON} characters.")
    return text


class GitLabLockStore:
    """Locks of one GitLab project, taken with the user's own token.

    ``reasons`` is the shared document keeping reasons by lock id (for example
    ``SharedJsonDocument.in_state_folder(gitlab, project, "locks")``).
    """

    def __init__(
        self,
        gitlab: GitLabClient,
        project_path: str,
        reasons: SharedJsonDocument,
        *,
        ref: str | None = None,
    ) -> None:
        self.gitlab = gitlab
        self.project_path = project_path
        self.reasons = reasons
        self.ref = ref
        self._me: User | None = None

    async def me(self) -> User:
        """The GitLab user this store acts as (read once)."""
        if self._me is None:
            self._me = await self.gitlab.current_user()
        return self._me

    async def acquire(self, path: str, reason: str, *, base_version: str | None = None) -> Lock:
        """Lock ``path`` for this user, or raise :class:`LockHeld` naming the holder."""
        why = clean_reason(reason)
        me = await self.me()
        try:
            taken = await self.gitlab.lfs_create_lock(self.project_path, path, ref=self.ref)
        except GitLabLockConflict as held:
            raise LockHeld(await self._holder_of(path, held.lock)) from None
        entry = {
            "path": taken.path,
            "reason": why,
            "holder_username": me.username,
            "holder_name": taken.owner.name if taken.owner else me.name,
            "base_version": base_version,
            "recorded_at": utcnow().isoformat(),
        }
        try:
            await self.reasons.update(
                lambda doc: _locks(doc).__setitem__(taken.id, entry),
                message=f"Check out {taken.path}: {why}"[:200],
            )
        except Exception:
            # A lock nobody can explain is worse than none: give it back, then report.
            with contextlib.suppress(GitLabError):
                await self.gitlab.lfs_unlock(self.project_path, taken.id, ref=self.ref)
            raise
        return self._joined(taken, entry, mine=True)

    async def release(self, path: str, *, force: bool = False) -> Lock:
        """Release the lock of ``path``; another user's lock only with ``force`` (Maintainer)."""
        held = await self._lfs_lock(path)
        if held is None:
            raise NotLocked(f"{path!r} is not checked out; there is nothing to release.")
        lock = self._joined(held, (await self._entries()).get(held.id))
        try:
            await self.gitlab.lfs_unlock(self.project_path, held.id, force=force, ref=self.ref)
        except GitLabNotFound:
            raise NotLocked(f"{path!r} was released meanwhile.") from None
        except GitLabForbidden:
            if force:
                raise LockNotYours(
                    f"{lock.sentence()}. Forcing it open needs the Maintainer role in "
                    f"{self.project_path} on GitLab."
                ) from None
            raise LockNotYours(
                f"{lock.sentence()}. Only the holder can release it (or a maintainer, by force)."
            ) from None
        await self._forget(held.id, path)
        return lock

    async def rebase(self, path: str, base_version: str) -> Lock:
        """Record that the holder now works from ``base_version`` (check-in, keep locked)."""
        held = await self._lfs_lock(path)
        if held is None:
            raise NotLocked(f"{path!r} is not checked out.")

        def change(doc: dict[str, Any]) -> dict[str, Any] | None:
            entry = _locks(doc).get(held.id)
            if isinstance(entry, dict):
                entry["base_version"] = base_version
            return entry if isinstance(entry, dict) else None

        entry = await self.reasons.update(change, message=f"Keep {path} checked out")
        return self._joined(held, entry)

    async def list(self) -> list[Lock]:
        """Every lock of the project, with reasons, ``mine`` telling the caller's own."""
        verification = await self.gitlab.lfs_verify_locks(self.project_path, ref=self.ref)
        entries = await self._entries()
        return sorted(
            [self._joined(lk, entries.get(lk.id), mine=True) for lk in verification.ours]
            + [self._joined(lk, entries.get(lk.id), mine=False) for lk in verification.theirs],
            key=lambda lock: lock.path,
        )

    async def holder(self, path: str) -> Lock | None:
        """Who holds ``path`` (None when nobody does)."""
        held = await self._lfs_lock(path)
        if held is None:
            return None
        me = await self.me()
        lock = self._joined(held, (await self._entries()).get(held.id))
        mine = lock.holder_username == me.username if lock.holder_username else None
        return replace(lock, mine=mine)

    # -- helpers ------------------------------------------------------------------------------

    async def _lfs_lock(self, path: str) -> LfsLock | None:
        found = await self.gitlab.lfs_locks(self.project_path, path=path, ref=self.ref)
        return next((lk for lk in found if lk.path == path), None)

    async def _holder_of(self, path: str, lfs_lock: LfsLock | None) -> Lock:
        held = lfs_lock or await self._lfs_lock(path)
        if held is None:  # released between GitLab's refusal and our look
            raise Conflict(f"{path!r} was checked out and released meanwhile; try again.")
        return self._joined(held, (await self._entries()).get(held.id))

    async def _entries(self) -> dict[str, Any]:
        return _locks((await self.reasons.read()).data)

    async def _forget(self, lock_id: str, path: str) -> None:
        try:
            await self.reasons.update(
                lambda doc: _locks(doc).pop(lock_id, None), message=f"Release {path}"
            )
        except GitLabError:
            # GitLab released the lock already; a left-over reason is keyed by a dead lock id
            # and never shown again, so the release must not be reported as failed.
            log.warning("could not remove the reason of released lock %s", lock_id)

    @staticmethod
    def _joined(lfs_lock: LfsLock, entry: Any, *, mine: bool | None = None) -> Lock:
        owner = lfs_lock.owner.name if lfs_lock.owner else "another user"
        # Anyone with push rights can edit the shared file; believe an entry only when it
        # describes GitLab's lock (same path, same owner).
        trusted = (
            isinstance(entry, dict)
            and entry.get("path") == lfs_lock.path
            and entry.get("holder_name") == owner
        )
        shared = entry if trusted else {}
        return Lock(
            lock_id=lfs_lock.id,
            path=lfs_lock.path,
            holder_name=owner,
            since=lfs_lock.locked_at,
            reason=str(shared.get("reason") or ""),
            holder_username=shared.get("holder_username"),
            base_version=shared.get("base_version"),
            mine=mine,
        )


def _locks(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``locks`` mapping of the shared document, created when absent."""
    found = doc.get("locks")
    if not isinstance(found, dict):
        found = {}
        doc["locks"] = found
    return found
