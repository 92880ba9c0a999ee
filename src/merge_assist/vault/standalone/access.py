"""How one request of a standalone instance reaches its vault: storage and locks on GitLab.

Both act with the signed-in user's own GitLab token: versions are committed as them, and their
check-outs are their GitLab LFS locks. The client of the locks is closed when the request ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.gitlab import GitLabClient
from merge_assist.kit.errors import NotFound
from merge_assist.kit.settings import Settings
from merge_assist.standalone.binding import StandaloneBinding, binding_of, user_client
from merge_assist.standalone.shared_json import SharedJsonDocument
from merge_assist.vault.actors import VaultActor
from merge_assist.vault.gitlab_storage import GitLabStorage
from merge_assist.vault.models import Vault
from merge_assist.vault.standalone.locks import GitLabLockStore
from merge_assist.vault.standalone.vault_locks import GitLabVaultLocks

STANDALONE_VAULT = "default"
LOCK_REASONS = "locks"


@dataclass
class StandaloneVault:
    """The bound GitLab folder as one user sees it during one request."""

    settings: Settings
    binding: StandaloneBinding
    token: str
    locks: GitLabVaultLocks

    def storage(self) -> GitLabStorage:
        """The vault's files in the bound project, read and written with the user's token."""

        def client() -> GitLabClient:
            return GitLabClient.from_settings(self.settings, self.token)

        return GitLabStorage(
            client,
            self.binding.project,
            branch=self.binding.branch,
            folder=self.binding.folder,
            writer=client,
        )


@asynccontextmanager
async def standalone_vault(
    session: AsyncSession, settings: Settings, vault: Vault, actor: VaultActor
) -> AsyncIterator[StandaloneVault]:
    """The standalone vault of this request (409 unbound, 403 without a GitLab token)."""
    binding = binding_of(settings)
    if vault.name != STANDALONE_VAULT:
        raise NotFound(
            f"A standalone instance has one vault, {STANDALONE_VAULT!r} (the folder "
            f"{binding.folder or '/'} of {binding.project} on GitLab), not {vault.name!r}."
        )
    client = user_client(settings, actor.gitlab_token)
    async with client:
        reasons = SharedJsonDocument.in_state_folder(client, binding.project, LOCK_REASONS)
        store = GitLabLockStore(client, binding.project, reasons)
        locks = GitLabVaultLocks(store, binding, session, vault.id, actor.user_id)
        yield StandaloneVault(settings, binding, actor.gitlab_token or "", locks)
