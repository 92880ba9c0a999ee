"""Exclusive check-outs behind a small ``LockStore`` protocol.

In server mode the database arbitrates (``DatabaseLockStore``): a lock is a row whose
``file_id`` is unique, inserted inside a savepoint. Of any number of concurrent check-outs
exactly one insert succeeds; the others hit the unique constraint (PostgreSQL makes them wait
for the winner's commit first) and are answered with the holder's name, time and reason. There
is no read-then-write decision in Python that two requests could both pass. In standalone mode
GitLab arbitrates instead: ``vault.standalone.vault_locks.GitLabVaultLocks`` keeps the same
operations on GitLab's LFS locks, so two machines can never both hold a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Conflict
from merge_assist.vault import repository
from merge_assist.vault.models import VaultLock


@dataclass(frozen=True)
class LockInfo:
    """Who holds a file, since when and why."""

    lock_id: int
    file_id: int
    holder_id: int
    holder_username: str
    holder_display_name: str
    since: datetime
    reason: str
    base_version: str

    @property
    def holder_is_local(self) -> bool:
        """The holder is a user of this instance (standalone: a lock of another machine's user
        has ``holder_id`` 0)."""
        return self.holder_id > 0

    def sentence(self, path: str) -> str:
        """``'x.mcam' is checked out by Alice Smith since 2026-11-22 09:15 UTC (reason).``"""
        when = self.since.strftime("%Y-%m-%d %H:%M UTC")
        return f"{path!r} is checked out by {self.holder_display_name} since {when}: {self.reason}"


class LockHeld(Conflict):
    """The file is checked out by someone (409 naming them, never a bare id)."""

    code = "lock_held"

    def __init__(self, path: str, lock: LockInfo) -> None:
        super().__init__(
            lock.sentence(path),
            details={
                "holder": {
                    "id": lock.holder_id,
                    "username": lock.holder_username,
                    "display_name": lock.holder_display_name,
                },
                "since": lock.since.isoformat(),
                "reason": lock.reason,
            },
        )
        self.lock = lock


class LockStore(Protocol):
    """Where check-outs are arbitrated."""

    async def acquire(
        self, file_id: int, path: str, holder_id: int, reason: str, base_version: str
    ) -> LockInfo:
        """Take the lock of ``file_id`` or raise ``LockHeld`` naming the current holder."""
        ...

    async def current(self, file_id: int, *, exclusive: bool = False) -> LockInfo | None:
        """The lock of ``file_id``, if anyone holds it; ``exclusive`` keeps it from being
        released by anyone else until this unit of work ends (check-in, rollback)."""
        ...

    async def release(self, lock: LockInfo) -> bool:
        """Drop exactly this lock (False when it was already gone)."""
        ...

    async def rebase(self, lock: LockInfo, base_version: str) -> None:
        """Record that the holder now works from ``base_version`` (kept after a check-in)."""
        ...


class DatabaseLockStore:
    """Locks as rows of ``vault_locks`` in the request's transaction (server mode)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def acquire(
        self, file_id: int, path: str, holder_id: int, reason: str, base_version: str
    ) -> LockInfo:
        await repository.serialise_writes(self.session)
        held = await self.current(file_id)
        if held is not None:
            raise LockHeld(path, held)
        row = VaultLock(
            file_id=file_id,
            holder_id=holder_id,
            since=utcnow(),
            reason=reason,
            base_version=base_version,
        )
        try:
            async with self.session.begin_nested():
                await repository.add(self.session, row)
        except IntegrityError:
            held = await self.current(file_id)
            if held is None:  # released between our insert and this read: still not ours
                raise Conflict(f"{path!r} was checked out and in meanwhile; try again.") from None
            raise LockHeld(path, held) from None
        acquired = await self.current(file_id)
        if acquired is None:  # pragma: no cover - inserted in this transaction just now
            raise Conflict(f"{path!r} could not be checked out; try again.")
        return acquired

    async def current(self, file_id: int, *, exclusive: bool = False) -> LockInfo | None:
        if exclusive:
            await repository.serialise_writes(self.session)
        found = await repository.lock_of(self.session, file_id, for_update=exclusive)
        if found is None:
            return None
        lock, user = found
        return LockInfo(
            lock_id=lock.id,
            file_id=lock.file_id,
            holder_id=lock.holder_id,
            holder_username=user.username,
            holder_display_name=user.display_name or user.username,
            since=lock.since,
            reason=lock.reason,
            base_version=lock.base_version,
        )

    async def release(self, lock: LockInfo) -> bool:
        await repository.serialise_writes(self.session)
        return await repository.delete_lock(self.session, lock.lock_id)

    async def rebase(self, lock: LockInfo, base_version: str) -> None:
        row = await self.session.get(VaultLock, lock.lock_id)
        if row is not None:
            row.base_version = base_version
            await self.session.flush()
