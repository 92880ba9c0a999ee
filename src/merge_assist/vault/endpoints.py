"""HTTP wiring of the vault (``/api/vault``).

Paths name the vault by id or name: ``/api/vault/default/files`` is the embedded default
vault (made on first use), ``/api/vault/3/files`` or ``/api/vault/cnc/files`` another one.
File ids are stable (``/api/vault/default/files/17``). Any signed-in user reads; writes need
the member role or above (viewers get 403); force unlock needs admin. A vault bound to a
project exists, for reads and writes alike, only for those who see that project (404
otherwise); a GitLab-backed vault is written with the user's own GitLab token, never the bot's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Query, Response, UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.dependencies import AdminUser, CurrentUser, Principal, require_roles
from merge_assist.kit.body_limit import read_upload
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.errors import MergeAssistError
from merge_assist.kit.live.publish import LiveSession
from merge_assist.kit.web import AppResources, Resources, Session
from merge_assist.projects.gitlab_access import GITLAB_CLIENT_FACTORY
from merge_assist.vault import actions, names, service, versions
from merge_assist.vault.actions import UploadLimits
from merge_assist.vault.actors import VaultActor, actor_for
from merge_assist.vault.backends import storage_for
from merge_assist.vault.locks import DatabaseLockStore, LockStore
from merge_assist.vault.models import Vault, VaultFile
from merge_assist.vault.repository import FileFilter, FileSort, FileStatus
from merge_assist.vault.schemas import (
    CheckInOut,
    DiffOut,
    FileOut,
    FilePageOut,
    ReasonIn,
    RollbackIn,
    SyncOut,
    VaultOut,
    VersionOut,
)
from merge_assist.vault.standalone.access import StandaloneVault, standalone_vault
from merge_assist.vault.storage import VaultStorage

router = APIRouter(prefix="/api/vault", tags=["vault"])

Writer = Annotated[Principal, Depends(require_roles("member", "priority_manager", "project_owner"))]
VaultRef = Annotated[
    str,
    Path(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="The vault's id or name ('default' is the embedded local vault).",
    ),
]
FileId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The file's stable id.")]
VersionQuery = Annotated[str | None, Query(min_length=7, max_length=64)]


@dataclass
class VaultCall:
    """One request against one vault: who asks, the vault, and how to reach its storage."""

    session: AsyncSession
    res: AppResources
    principal: Principal
    vault: Vault
    actor: VaultActor
    standalone: StandaloneVault | None = None

    async def storage(self) -> VaultStorage:
        """The vault's storage, writing as this request's actor."""
        if self.standalone is not None:
            return self.standalone.storage()
        factory = self.res.service(GITLAB_CLIENT_FACTORY)
        return await storage_for(
            self.session, self.res.settings, self.vault, gitlab=factory, actor=self.actor
        )

    @property
    def locks(self) -> LockStore:
        """Where check-outs are arbitrated: the database, or GitLab in standalone mode."""
        if self.standalone is not None:
            return self.standalone.locks
        return DatabaseLockStore(self.session)

    @property
    def limits(self) -> UploadLimits:
        settings = self.res.settings
        return UploadLimits(
            names.parse_extensions(settings.vault_allowed_extensions),
            settings.vault_max_upload_bytes,
        )

    async def file(self, file_id: int) -> VaultFile:
        return await service.get_file(self.session, self.vault, file_id)

    async def file_out(self, file_id: int) -> FileOut:
        row = await service.file_row(self.session, self.vault, file_id)
        if self.standalone is not None:
            lock = await self.standalone.locks.current(file_id)
            return FileOut.with_lock(row.file, lock, self.principal.id)
        return FileOut.of(row, self.principal.id)

    async def page_out(self, filters: FileFilter, limit: int, offset: int) -> FilePageOut:
        """A page of the file list with each file's lock (standalone: as GitLab has them)."""
        if self.standalone is None:
            page = await service.list_files(self.session, filters, limit=limit, offset=offset)
            return FilePageOut.of(page, self.principal.id)
        locks = self.standalone.locks
        held = await locks.by_path()
        mine = frozenset(path for path, lock in held.items() if lock.mine)
        filters = replace(filters, locked_paths=frozenset(held), my_paths=mine)
        page = await service.list_files(self.session, filters, limit=limit, offset=offset)
        items = [
            FileOut.with_lock(
                row.file, locks.info(row.file.id, held.get(row.file.path)), self.principal.id
            )
            for row in page.items
        ]
        return FilePageOut(
            items=items, total=page.total, vault_total=page.vault_total, limit=limit, offset=offset
        )

    @asynccontextmanager
    async def audited(self, action: str, file_id: int | None = None) -> AsyncIterator[None]:
        """Audit a refusal of ``action`` in a transaction of its own, then let it through."""
        vault_id = self.vault.id  # read now: the rollback below expires loaded rows
        try:
            yield
        except MergeAssistError as refusal:
            # Release this request's transaction (and SQLite's writer lock) first.
            await self.session.rollback()
            async with unit_of_work(self.res.sessions) as session:
                await actions.record_refusal(
                    session,
                    self.actor,
                    action,
                    vault_id=vault_id,
                    file_id=file_id,
                    refusal=refusal,
                )
            raise


@asynccontextmanager
async def _call(
    vault_ref: str, principal: Principal, session: AsyncSession, res: AppResources
) -> AsyncIterator[VaultCall]:
    vault = await service.get_visible_vault(session, principal, vault_ref)
    actor = await actor_for(principal, session, res.settings)
    if not res.settings.standalone:
        yield VaultCall(session, res, principal, vault, actor)
        return
    async with standalone_vault(session, res.settings, vault, actor) as standalone:
        yield VaultCall(session, res, principal, vault, actor, standalone)


async def reader_call(
    vault: VaultRef, principal: CurrentUser, session: Session, res: Resources
) -> AsyncIterator[VaultCall]:
    """A read of the vault by any signed-in user."""
    async with _call(vault, principal, session, res) as call:
        yield call


async def writer_call(
    vault: VaultRef, principal: Writer, session: LiveSession, res: Resources
) -> AsyncIterator[VaultCall]:
    """A change to the vault by a member or above (live events go out after commit)."""
    async with _call(vault, principal, session, res) as call:
        yield call


async def admin_call(
    vault: VaultRef, principal: AdminUser, session: LiveSession, res: Resources
) -> AsyncIterator[VaultCall]:
    """A change only administrators may make."""
    async with _call(vault, principal, session, res) as call:
        yield call


Reader = Annotated[VaultCall, Depends(reader_call, scope="function")]
Changer = Annotated[VaultCall, Depends(writer_call, scope="function")]
Admin = Annotated[VaultCall, Depends(admin_call, scope="function")]


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded bytes, refused with 413 as soon as they pass ``limit``."""
    sentence = (
        f"The file is larger than the vault's limit of {limit / 1048576:.1f} MiB "
        "(MERGE_ASSIST_VAULT_MAX_UPLOAD_BYTES)."
    )
    return await read_upload(upload, limit, sentence)


@router.get("/vaults")
async def list_vaults(principal: CurrentUser, session: Session) -> list[VaultOut]:
    """The vaults the caller may see (the default one appears once it has been used)."""
    vaults = await service.visible_vaults(session, principal)
    counts = await service.file_counts(session, vaults)
    return [VaultOut.of(vault, counts[vault.id]) for vault in vaults]


@router.get("/{vault}/files")
async def list_files(
    call: Reader,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[FileStatus | None, Query(description="available, checked_out, mine")] = None,
    sort: FileSort = FileSort.name,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> FilePageOut:
    """The vault's files with their check-outs, filtered, sorted and paged."""
    filters = FileFilter(
        vault_id=call.vault.id,
        viewer_id=call.principal.id,
        search=search.strip() if search and search.strip() else None,
        status=status,
        sort=sort,
        descending=order == "desc",
    )
    return await call.page_out(filters, limit, offset)


@router.post("/{vault}/files", status_code=201)
async def upload_file(
    call: Changer,
    file: Annotated[UploadFile, File(description="The new file's content.")],
    name: Annotated[str | None, Form(max_length=2048)] = None,
    message: Annotated[str | None, Form(max_length=5000)] = None,
) -> FileOut:
    """Add a new file (its version 1); ``name`` defaults to the uploaded file's name."""
    async with call.audited("upload"):
        content = await _read_upload(file, call.limits.max_bytes)
        stored = await actions.upload(
            call.session,
            call.vault,
            await call.storage(),
            call.actor,
            name=name if name is not None else (file.filename or ""),
            content=content,
            message=message,
            limits=call.limits,
        )
    return await call.file_out(stored.id)


@router.post("/{vault}/sync")
async def sync_vault(call: Changer) -> SyncOut:
    """Record files added or changed in the vault's storage outside Merge Assist."""
    result = await service.sync(
        call.session,
        call.vault,
        await call.storage(),
        actor_name=call.actor.username,
        allowed_extensions=call.limits.extensions,
    )
    return SyncOut(added=result.added, updated=result.updated, ignored=result.ignored)


@router.get("/{vault}/files/{file_id}")
async def file_details(call: Reader, file_id: FileId) -> FileOut:
    """One file with its check-out (holder, since, reason, age)."""
    return await call.file_out(file_id)


@router.get("/{vault}/files/{file_id}/content")
async def download(call: Reader, file_id: FileId, version: VersionQuery = None) -> Response:
    """The file's bytes at ``version`` (newest when omitted); audited."""
    file = await call.file(file_id)
    content, version_id = await versions.download(
        call.session, await call.storage(), file, call.actor, version
    )
    filename = file.path.rsplit("/", 1)[-1]
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Vault-Version": version_id,
        },
    )


@router.post("/{vault}/files/{file_id}/checkout")
async def check_out(call: Changer, file_id: FileId, body: ReasonIn) -> FileOut:
    """Take the exclusive lock; 409 naming the holder when someone has it."""
    async with call.audited("checkout", file_id):
        file = await call.file(file_id)
        await actions.check_out(call.session, call.locks, file, call.actor, body.reason)
    return await call.file_out(file_id)


@router.post("/{vault}/files/{file_id}/checkin")
async def check_in(
    call: Changer,
    file_id: FileId,
    file: Annotated[UploadFile, File(description="The new content.")],
    base_version: Annotated[str, Form(max_length=64, description="The version you started from.")],
    message: Annotated[str | None, Form(max_length=5000)] = None,
    keep_locked: Annotated[bool, Form(description="Keep the file checked out.")] = False,
) -> CheckInOut:
    """Store the holder's new content as a version and release (or keep) the lock."""
    async with call.audited("checkin", file_id):
        content = await _read_upload(file, call.limits.max_bytes)
        result = await actions.check_in(
            call.session,
            await call.storage(),
            call.locks,
            await call.file(file_id),
            call.actor,
            actions.CheckIn(content, message, base_version, keep_locked),
            limits=call.limits,
        )
    version = VersionOut.of(result.version) if result.version else None
    return CheckInOut(
        file=await call.file_out(file_id),
        version=version,
        changed=version is not None,
        released=result.released,
    )


@router.post("/{vault}/files/{file_id}/undo-checkout")
async def undo_check_out(call: Changer, file_id: FileId) -> FileOut:
    """Release your own check-out without a new version."""
    async with call.audited("undo_checkout", file_id):
        file = await call.file(file_id)
        await actions.undo_check_out(call.session, call.locks, file, call.actor)
    return await call.file_out(file_id)


@router.post("/{vault}/files/{file_id}/force-unlock")
async def force_unlock(call: Admin, file_id: FileId, body: ReasonIn) -> FileOut:
    """Release anyone's check-out (admin); the previous holder gets a message."""
    async with call.audited("force_unlock", file_id):
        file = await call.file(file_id)
        await actions.force_unlock(call.session, call.locks, file, call.actor, body.reason)
    return await call.file_out(file_id)


@router.get("/{vault}/files/{file_id}/history")
async def history(call: Reader, file_id: FileId) -> list[VersionOut]:
    """The file's versions, newest first."""
    found = await versions.history(await call.storage(), await call.file(file_id))
    return [VersionOut.of(version) for version in found]


@router.get("/{vault}/files/{file_id}/diff")
async def diff(
    call: Reader,
    file_id: FileId,
    from_version: Annotated[str, Query(alias="from", min_length=7, max_length=64)],
    to_version: Annotated[str | None, Query(alias="to", min_length=7, max_length=64)] = None,
) -> DiffOut:
    """Compare two versions: unified diff for text, metadata for binary files."""
    old, new, result = await versions.diff(
        await call.storage(), await call.file(file_id), from_version, to_version
    )
    return DiffOut.of(old, new, result)


@router.post("/{vault}/files/{file_id}/rollback")
async def rollback(call: Changer, file_id: FileId, body: RollbackIn) -> CheckInOut:
    """Make a new version equal to an old one (lock holder or admin)."""
    async with call.audited("rollback", file_id):
        version = await actions.rollback(
            call.session,
            await call.storage(),
            call.locks,
            await call.file(file_id),
            call.actor,
            version=body.version,
            message=body.message,
        )
    return CheckInOut(
        file=await call.file_out(file_id),
        version=VersionOut.of(version),
        changed=True,
        released=False,
    )
