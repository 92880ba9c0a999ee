"""``merge-assist vault``: create a vault (local, or bound to an onboarded project), sync one
with its folder, list them."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.cli import run_unit_of_work
from merge_assist.kit.errors import NotFound
from merge_assist.kit.progress import ProgressLine
from merge_assist.kit.settings import Settings, get_settings
from merge_assist.projects import service as projects
from merge_assist.projects.gitlab_access import gitlab_client_factory
from merge_assist.vault import names, service
from merge_assist.vault.backends import storage_for
from merge_assist.vault.models import Vault, VaultBackend

vault_app = typer.Typer(no_args_is_help=True, help="Create, sync and list file vaults.")

CLI_NAME = "cli"


async def _project_id(session: AsyncSession, ref: str) -> int:
    """An onboarded project by our id or its GitLab path (``group/app``)."""
    if ref.isdigit():
        return (await projects.get_project(session, int(ref))).id
    for project in await projects.all_projects(session, include_inactive=False):
        if project.path_with_namespace == ref:
            return project.id
    raise NotFound(f"No onboarded project is called {ref!r}; onboard it with `projects add`.")


def _describe(vault: Vault) -> str:
    where = f"project {vault.project_id}" if vault.project_id is not None else "local"
    return f"{vault.id}\t{vault.name}\t{vault.backend}\t{where}\t{vault.branch}\t/{vault.folder}"


async def _sync(session: AsyncSession, settings: Settings, vault: Vault) -> str:
    gitlab = gitlab_client_factory(settings) if vault.backend == VaultBackend.gitlab else None
    storage = await storage_for(session, settings, vault, gitlab=gitlab)
    progress = ProgressLine(f"Syncing {vault.name}")  # a bar at a terminal, nothing elsewhere
    try:
        found = await service.sync(
            session,
            vault,
            storage,
            actor_name=CLI_NAME,
            allowed_extensions=names.parse_extensions(settings.vault_allowed_extensions),
            progress=progress,
        )
    finally:
        progress.finish()
    left_out = f"; {found.ignored} other file(s) left out" if found.ignored else ""
    return f"{found.added} file(s) found in the folder, {found.updated} updated{left_out}"


@vault_app.command("create")
def create_vault(
    name: Annotated[str, typer.Argument(help="The vault's name (lower-case, digits, - and _).")],
    project: Annotated[
        str | None,
        typer.Option(help="Onboarded project (our id or group/app): a GitLab vault. Omit: local."),
    ] = None,
    folder: Annotated[str, typer.Option(help="Folder of the repository holding the files.")] = "",
    branch: Annotated[
        str | None, typer.Option(help="Branch (default: the project's default branch, or main).")
    ] = None,
    sync: Annotated[
        bool, typer.Option("--sync/--no-sync", help="Record the files already in the folder.")
    ] = True,
) -> None:
    """Create a vault: a local git repository, or a folder of an onboarded GitLab project."""
    settings = get_settings()

    async def work(session: AsyncSession) -> str:
        project_id = await _project_id(session, project) if project else None
        vault = await service.create_vault(
            session,
            name=name,
            backend=VaultBackend.gitlab if project_id is not None else VaultBackend.local,
            project_id=project_id,
            folder=folder,
            branch=branch,
            actor_name=CLI_NAME,
        )
        found = f"; {await _sync(session, settings, vault)}" if sync else ""
        return f"Created vault {vault.name!r} (id {vault.id}, {vault.backend}){found}."

    typer.echo(run_unit_of_work(work))


@vault_app.command("sync")
def sync_vault(
    name: Annotated[str, typer.Argument(help="The vault's name.")],
) -> None:
    """Record files added or changed in the vault's folder outside Merge Assist (a progress bar
    at a terminal)."""
    settings = get_settings()

    async def work(session: AsyncSession) -> str:
        vault = await service.get_vault(session, name)
        return f"Synced vault {vault.name!r}: {await _sync(session, settings, vault)}."

    typer.echo(run_unit_of_work(work))


@vault_app.command("list")
def list_vaults() -> None:
    """The vaults: id, name, backend, project, branch, folder."""

    async def work(session: AsyncSession) -> list[str]:
        return [_describe(vault) for vault in await service.list_vaults(session)]

    lines = run_unit_of_work(work)
    typer.echo(
        "\n".join(lines) if lines else "No vaults yet (the default one appears on first use)."
    )
