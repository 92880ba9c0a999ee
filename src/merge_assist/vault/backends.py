"""The storage of a vault row: a local repository in the data folder, or its GitLab project."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.gitlab import GitLabClient
from merge_assist.kit.errors import ServiceUnavailable
from merge_assist.kit.settings import Settings
from merge_assist.projects import service as projects
from merge_assist.vault.actors import VaultActor
from merge_assist.vault.gitlab_storage import GitLabStorage
from merge_assist.vault.local_storage import LocalGitStorage
from merge_assist.vault.models import Vault, VaultBackend
from merge_assist.vault.storage import VaultStorage

GitLabFactory = Callable[[], GitLabClient]


def local_repository(settings: Settings, vault: Vault) -> LocalGitStorage:
    """The local backend of ``vault``: ``<vault dir>/<vault name>.git``."""
    return LocalGitStorage(
        settings.effective_vault_dir / f"{vault.name}.git",
        branch=vault.branch,
        folder=vault.folder,
        time_limit=settings.git_timeout_seconds,
    )


async def storage_for(
    session: AsyncSession,
    settings: Settings,
    vault: Vault,
    *,
    gitlab: GitLabFactory | None,
    actor: VaultActor | None = None,
) -> VaultStorage:
    """Where ``vault`` keeps its files; GitLab writes use the actor's own token when known."""
    if vault.backend == VaultBackend.local:
        return local_repository(settings, vault)
    if gitlab is None or vault.project_id is None:
        raise ServiceUnavailable(f"The vault {vault.name!r} needs GitLab, which is not configured.")
    project = await projects.get_project(session, vault.project_id)
    writer: GitLabFactory | None = None
    token = actor.gitlab_token if actor is not None else None
    if token:
        writer = lambda: GitLabClient.from_settings(settings, token)  # noqa: E731
    return GitLabStorage(
        gitlab,
        project.gitlab_project_id,
        branch=vault.branch,
        folder=vault.folder,
        writer=writer,
    )
