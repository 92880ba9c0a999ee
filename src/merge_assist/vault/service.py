"""Vault rules: vaults, the file list and details, sync with storage, and the merge gate.

Changes to files (upload, check-out, check-in, undo, force unlock, rollback) are in
``vault.actions``; versions (history, diff, download) in ``vault.versions``. Like every service
this one flushes and never commits.

Decisions:
- A default vault (``default``, local git repository in the data folder) is made on first use,
  so the embedded product works with no setup. Other vaults are made by ``merge-assist vault
  create`` (a local one, or one bound to an onboarded GitLab project and folder).
- A vault bound to a project is seen (read or written) only by those who see the project,
  the rule of ``GET /api/projects``; local vaults by every signed-in user.
- The file list reads the database only (fast, no GitLab call per request). Files that reach
  the folder outside the vault are picked up by ``sync`` (``POST /api/vault/{vault}/sync``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.auth import gitlab_identities
from merge_assist.auth.principal import Principal
from merge_assist.gitlab import paths as repository_paths
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Conflict, NotFound, Unprocessable
from merge_assist.kit.progress import Progress
from merge_assist.projects import service as projects
from merge_assist.vault import names, repository, rules
from merge_assist.vault.models import Vault, VaultBackend, VaultFile
from merge_assist.vault.repository import FileFilter, FileRow
from merge_assist.vault.storage import VaultStorage

DEFAULT_VAULT = "default"
MAX_PAGE = 500
SYSTEM_NAME = "system"


@dataclass(frozen=True)
class FilePage:
    """One page of the file list: ``total`` match the filters, ``vault_total`` are in the vault
    ("Showing ``len(items)`` of ``total``", "``total`` of ``vault_total`` files")."""

    items: list[FileRow]
    total: int
    vault_total: int
    limit: int
    offset: int


class CheckedOutPath(NamedTuple):
    """A repository path checked out in a vault, and its holder (for the merge queue's gate)."""

    path: str
    holder: str


@dataclass(frozen=True)
class SyncResult:
    """What a sync with storage found: new files, files with a newer version, and files left
    out because the vault may not hold them (a ``README.md``, a name with a bad part)."""

    added: int
    updated: int
    ignored: int = 0


async def get_vault(session: AsyncSession, ref: str) -> Vault:
    """The vault named or numbered ``ref``; ``default`` is created on first use."""
    if ref.isdigit():
        vault = await repository.vault_by_id(session, int(ref))
    else:
        vault = await repository.vault_by_name(session, ref)
        if vault is None and ref == DEFAULT_VAULT:
            vault = await _create_default(session)
    if vault is None:
        raise NotFound(f"There is no vault {ref!r}.")
    return vault


async def get_visible_vault(session: AsyncSession, principal: Principal, ref: str) -> Vault:
    """The vault ``ref`` if ``principal`` may see it: a vault bound to a project only for those
    who see the project (the rule of ``GET /api/projects``); NotFound otherwise, as for a vault
    that does not exist (its existence is not leaked)."""
    vault = await get_vault(session, ref)
    if vault.project_id is not None:
        try:
            await projects.get_visible_project(session, principal, vault.project_id)
        except NotFound:
            raise NotFound(f"There is no vault {ref!r}.") from None
    return vault


async def _create_default(session: AsyncSession) -> Vault:
    await repository.serialise_writes(session)
    found = await repository.vault_by_name(session, DEFAULT_VAULT)
    if found is not None:
        return found
    vault = Vault(name=DEFAULT_VAULT, backend=VaultBackend.local, folder="", branch="main")
    try:
        async with session.begin_nested():
            await repository.add(session, vault)
    except IntegrityError:  # another request created it first
        found = await repository.vault_by_name(session, DEFAULT_VAULT)
        if found is None:
            raise
        return found
    return vault


async def list_vaults(session: AsyncSession) -> Sequence[Vault]:
    """Every vault, by name."""
    return await repository.list_vaults(session)


async def visible_vaults(session: AsyncSession, principal: Principal) -> list[Vault]:
    """The vaults ``principal`` may see, by name: local ones, and those bound to a project
    they see."""
    seen = {project.id for project in await projects.visible_projects(session, principal)}
    return [
        vault
        for vault in await repository.list_vaults(session)
        if vault.project_id is None or vault.project_id in seen
    ]


async def file_counts(session: AsyncSession, vaults: Sequence[Vault]) -> dict[int, int]:
    """How many files each of ``vaults`` holds, by vault id (0 when none)."""
    counts = await repository.file_counts(session, [vault.id for vault in vaults])
    return {vault.id: counts.get(vault.id, 0) for vault in vaults}


async def create_vault(
    session: AsyncSession,
    *,
    name: str,
    backend: VaultBackend,
    project_id: int | None = None,
    folder: str = "",
    branch: str | None = None,
    actor_id: int | None = None,
    actor_name: str = SYSTEM_NAME,
) -> Vault:
    """Add a vault: local, or bound to an onboarded project (``project_id``) and folder."""
    clean_name = rules.clean_vault_name(name)
    clean_folder = repository_paths.clean_folder(folder)
    if backend is VaultBackend.gitlab:
        if project_id is None:
            raise Unprocessable("A GitLab vault needs an onboarded project.")
        project = await projects.get_project(session, project_id)
        branch = branch or project.default_branch or "main"
    elif project_id is not None:
        raise Unprocessable("A local vault is not bound to a project; leave the project out.")
    if await repository.vault_by_name(session, clean_name) is not None:
        raise Conflict(f"There is already a vault called {clean_name!r}.")
    vault = Vault(
        name=clean_name,
        backend=backend,
        project_id=project_id,
        folder=clean_folder,
        branch=(branch or "main").strip(),
    )
    await repository.add(session, vault)
    await audit.record(
        session,
        actor_id=actor_id,
        actor_name=actor_name,
        action="vault.create",
        success=True,
        target_type="vault",
        target_id=vault.id,
        details={"name": clean_name, "backend": str(backend), "folder": clean_folder},
    )
    return vault


async def list_files(
    session: AsyncSession, filters: FileFilter, *, limit: int = 100, offset: int = 0
) -> FilePage:
    """A page of the vault's files with their locks."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Unprocessable(f"'limit' must be 1 to {MAX_PAGE} and 'offset' not negative.")
    items = await repository.list_file_rows(session, filters, limit=limit, offset=offset)
    total = await repository.count_files(session, filters, filters.vault_id)
    vault_total = await repository.count_files(session, None, filters.vault_id)
    return FilePage(items, total, vault_total, limit, offset)


async def file_row(session: AsyncSession, vault: Vault, file_id: int) -> FileRow:
    """One file of ``vault`` with its lock; 404 otherwise."""
    row = await repository.file_row(session, vault.id, file_id)
    if row is None:
        raise NotFound(f"The vault {vault.name!r} has no file with id {file_id}.")
    return row


async def get_file(session: AsyncSession, vault: Vault, file_id: int) -> VaultFile:
    """One file of ``vault``; 404 otherwise."""
    return (await file_row(session, vault, file_id)).file


async def sync(
    session: AsyncSession,
    vault: Vault,
    storage: VaultStorage,
    *,
    actor_name: str,
    allowed_extensions: frozenset[str],
    progress: Progress | None = None,
) -> SyncResult:
    """Record files added or changed in storage outside the vault (locks are kept).

    Files the vault could not have taken in by upload (other extensions, bad names) are left
    out. Two syncs at once are harmless: a file the other one recorded first is skipped.
    ``progress`` hears of each file looked at (``kit.progress``)."""
    known = {f.path: f for f in await repository.files_of_vault(session, vault.id)}
    added = updated = ignored = 0
    listed = await storage.list_files()
    for index, stored in enumerate(listed, start=1):
        if progress is not None:
            progress(index, len(listed), stored.path)
        if not names.is_acceptable(stored.path, allowed_extensions):
            ignored += 1
            continue
        current = known.get(stored.path)
        if current is not None and current.current_version == stored.version:
            continue
        facts = await storage.version(stored.path, stored.version)
        values: dict[str, Any] = {
            "current_version": facts.id,
            "size": facts.size,
            "content_sha256": facts.content_sha256,
            "updated_at": facts.date,
            "updated_by": facts.author_name,
        }
        if current is None:
            row = VaultFile(vault_id=vault.id, path=stored.path, **values)
            if await repository.add_unless_present(session, row):
                added += 1
        elif await repository.move_file_version(
            session, current, expected=current.current_version, values=values
        ):
            updated += 1
    await audit.record(
        session,
        actor_id=None,
        actor_name=actor_name,
        action="vault.sync",
        success=True,
        target_type="vault",
        target_id=vault.id,
        details={
            "added": added,
            "updated": updated,
            "ignored": ignored,
            "at": utcnow().isoformat(),
        },
    )
    return SyncResult(added, updated, ignored)


async def locks_for_paths(
    session: AsyncSession, project_id: int, paths: Sequence[str]
) -> list[CheckedOutPath]:
    """The vault check-outs among repository ``paths`` of the project ``project_id``.

    For the merge queue's gate: an MR touching a checked-out file must wait. ``paths`` are
    repository paths; each vault bound to the project maps them through its folder. The holder
    is the holder's GitLab username when they signed in with a GitLab token (what the engine
    compares with the MR author), else their username here.
    """
    vaults = await repository.vaults_of_project(session, project_id)
    by_vault: dict[int, dict[str, str]] = {}
    for vault in vaults:
        prefix = vault.folder + "/" if vault.folder else ""
        by_vault[vault.id] = {
            path[len(prefix) :]: path for path in paths if path.startswith(prefix) and path
        }
    relative = sorted({rel for mapping in by_vault.values() for rel in mapping})
    found = await repository.locked_paths_of_vaults(session, list(by_vault), relative)
    holders: dict[int, str] = {}
    for _vault_id, _rel, holder_id, username in found:
        if holder_id not in holders:
            gitlab_name = await gitlab_identities.gitlab_username_for(session, holder_id)
            holders[holder_id] = gitlab_name or username
    locks = {
        CheckedOutPath(path=by_vault[vault_id][rel], holder=holders[holder_id])
        for vault_id, rel, holder_id, _username in found
        if rel in by_vault[vault_id]
    }
    return sorted(locks, key=lambda lock: lock.path)
