"""The vault's ``LockStore`` in standalone mode: GitLab's LFS locks on the files' paths.

A vault file is known here by its stable id (the id of this instance's row); GitLab knows it by
its repository path, ``<vault folder>/<file path>`` in the bound project. Each call maps the id
to that path and asks GitLab with the signed-in user's own token, so of any number of
concurrent check-outs, from any number of machines, GitLab lets exactly one win.

A lock belongs to a **path**: GitLab does not move a lock when a file is renamed or moved, so a
renamed file is not checked out under its new path, and the lock on the old path stays until
its holder (or a maintainer) releases it.

``holder_id`` of a lock is the caller's user id when the lock is theirs, else
``OTHER_MACHINE`` (0): the holder is a GitLab user, who may never have used this instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import NotFound
from merge_assist.standalone.binding import StandaloneBinding
from merge_assist.vault import repository
from merge_assist.vault.locks import LockHeld, LockInfo
from merge_assist.vault.standalone import locks as gitlab_locks
from merge_assist.vault.standalone.locks import GitLabLockStore, Lock

OTHER_MACHINE = 0
NO_REASON_YET = "(no reason recorded yet)"


@dataclass
class GitLabVaultLocks:
    """Check-outs of one vault of this instance, arbitrated by GitLab, as ``user_id``."""

    store: GitLabLockStore
    binding: StandaloneBinding
    session: AsyncSession
    vault_id: int
    user_id: int

    async def acquire(
        self, file_id: int, path: str, holder_id: int, reason: str, base_version: str
    ) -> LockInfo:
        """GitLab's lock on the file's path, or ``LockHeld`` (409) naming who holds it."""
        try:
            taken = await self.store.acquire(
                self.binding.repository_path(path), reason, base_version=base_version
            )
        except gitlab_locks.LockHeld as held:
            raise LockHeld(path, self._info(file_id, held.lock)) from None
        return self._info(file_id, taken, mine=True)

    async def current(self, file_id: int, *, exclusive: bool = False) -> LockInfo | None:
        """Who holds the file on GitLab (``exclusive`` has no meaning there: GitLab's lock is
        already exclusive, and only its holder or a maintainer can release it)."""
        held = await self.store.holder(await self._repository_path(file_id))
        return self._info(file_id, held) if held is not None else None

    async def release(self, lock: LockInfo) -> bool:
        """Release the file's lock; someone else's is forced (GitLab allows it Maintainers)."""
        try:
            await self.store.release(
                await self._repository_path(lock.file_id), force=lock.holder_id != self.user_id
            )
        except gitlab_locks.NotLocked:
            return False
        return True

    async def rebase(self, lock: LockInfo, base_version: str) -> None:
        await self.store.rebase(await self._repository_path(lock.file_id), base_version)

    async def by_path(self) -> dict[str, Lock]:
        """Every lock in the vault's folder by the file's vault path (one GitLab call)."""
        prefix = self.binding.repository_path("")
        return {
            lock.path[len(prefix) :]: lock
            for lock in await self.store.list()
            if lock.path.startswith(prefix)
        }

    def info(self, file_id: int, lock: Lock | None) -> LockInfo | None:
        """A GitLab lock in the vault's terms (None stays None)."""
        return self._info(file_id, lock) if lock is not None else None

    async def _repository_path(self, file_id: int) -> str:
        file = await repository.file_by_id(self.session, self.vault_id, file_id)
        if file is None:
            raise NotFound(f"The vault has no file with id {file_id}.")
        return self.binding.repository_path(file.path)

    def _info(self, file_id: int, lock: Lock, *, mine: bool | None = None) -> LockInfo:
        own = lock.mine if mine is None else mine
        return LockInfo(
            lock_id=int(lock.lock_id) if lock.lock_id.isdigit() else 0,
            file_id=file_id,
            holder_id=self.user_id if own else OTHER_MACHINE,
            holder_username=lock.holder_username or lock.holder_name,
            holder_display_name=lock.holder_name,
            since=lock.since or utcnow(),
            reason=lock.reason or NO_REASON_YET,
            base_version=lock.base_version or "",
        )
