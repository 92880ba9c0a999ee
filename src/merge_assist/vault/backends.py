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
    """Where ``vault`` keeps its files. A GitLab vault reads through ``gitlab`` (the bot) and
    writes only with the actor's own GitLab token: without one, its writes are refused (403)
    with a sentence saying how to get one — never sent with the bot's token."""
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
        no_writer=no_gitlab_access_sentence(vault),
    )


def no_gitlab_access_sentence(vault: Vault) -> str:
    """Why a user without a usable GitLab token of their own cannot change a GitLab vault."""
    return (
        f"The vault {vault.name!r} is kept in GitLab, and Merge Assist commits changes to it "
        "with your own GitLab access, never with its bot's. You have no usable GitLab token "
        "here (you signed in with a password, or your token has expired or lacks the 'api' "
        "scope): sign in with a GitLab personal access token with the 'api' scope, then try "
        "again."
    )
