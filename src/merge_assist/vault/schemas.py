"""API shapes of the vault (``/api/vault``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from merge_assist.kit.clock import utcnow
from merge_assist.vault import diffing
from merge_assist.vault.locks import LockInfo
from merge_assist.vault.models import Vault, VaultFile
from merge_assist.vault.repository import FileRow
from merge_assist.vault.service import DEFAULT_VAULT, FilePage
from merge_assist.vault.storage import FileVersion


class VaultOut(BaseModel):
    """A vault: where its files live."""

    id: int
    name: str
    backend: Literal["local", "gitlab"]
    project_id: int | None
    folder: str
    branch: str
    is_default: bool
    file_count: int = Field(0, description="How many files the vault holds.")

    @classmethod
    def of(cls, vault: Vault, file_count: int = 0) -> VaultOut:
        return cls(
            file_count=file_count,
            id=vault.id,
            name=vault.name,
            backend=vault.backend,
            project_id=vault.project_id,
            folder=vault.folder,
            branch=vault.branch,
            is_default=vault.name == DEFAULT_VAULT,
        )


class HolderOut(BaseModel):
    """Who holds a check-out."""

    id: int
    username: str
    display_name: str


class LockOut(BaseModel):
    """A check-out: holder, since when (and how long), why, and the version it started from."""

    holder: HolderOut
    since: datetime
    age_seconds: int
    reason: str
    base_version: str


class FileOut(BaseModel):
    """A row of the file list (and the file details)."""

    id: int
    vault_id: int
    path: str
    name: str
    size: int
    current_version: str
    content_sha256: str
    updated_at: datetime
    updated_by: str | None
    status: Literal["available", "checked_out"]
    checked_out_by_me: bool
    lock: LockOut | None

    @classmethod
    def of(cls, row: FileRow, viewer_id: int) -> FileOut:
        lock = row.lock
        info = None
        if lock is not None:
            info = LockInfo(
                lock_id=lock.id,
                file_id=lock.file_id,
                holder_id=lock.holder_id,
                holder_username=row.holder_username or "",
                holder_display_name=row.holder_display_name or row.holder_username or "",
                since=lock.since,
                reason=lock.reason,
                base_version=lock.base_version,
            )
        return cls.with_lock(row.file, info, viewer_id)

    @classmethod
    def with_lock(cls, file: VaultFile, lock: LockInfo | None, viewer_id: int) -> FileOut:
        """A file with its lock as a lock store tells it (standalone: GitLab's)."""
        lock_out = None
        if lock is not None:
            lock_out = LockOut(
                holder=HolderOut(
                    id=lock.holder_id,
                    username=lock.holder_username,
                    display_name=lock.holder_display_name,
                ),
                since=lock.since,
                age_seconds=max(0, int((utcnow() - lock.since).total_seconds())),
                reason=lock.reason,
                base_version=lock.base_version,
            )
        return cls(
            id=file.id,
            vault_id=file.vault_id,
            path=file.path,
            name=file.path.rsplit("/", 1)[-1],
            size=file.size,
            current_version=file.current_version,
            content_sha256=file.content_sha256,
            updated_at=file.updated_at,
            updated_by=file.updated_by,
            status="checked_out" if lock is not None else "available",
            checked_out_by_me=lock is not None and lock.holder_id == viewer_id,
            lock=lock_out,
        )


class FilePageOut(BaseModel):
    """A page of files: "Showing ``len(items)`` of ``total``" (``vault_total`` unfiltered)."""

    items: list[FileOut]
    total: int
    vault_total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: FilePage, viewer_id: int) -> FilePageOut:
        return cls(
            items=[FileOut.of(row, viewer_id) for row in page.items],
            total=page.total,
            vault_total=page.vault_total,
            limit=page.limit,
            offset=page.offset,
        )


class ReasonIn(BaseModel):
    """A check-out or force-unlock reason (1 to 500 characters)."""

    reason: str = Field(max_length=5000)


class RollbackIn(BaseModel):
    """Roll back to ``version`` (a new version with its content)."""

    version: str = Field(min_length=7, max_length=64)
    message: str | None = Field(default=None, max_length=5000)


class VersionOut(BaseModel):
    """One version of a file (a commit that touched it)."""

    id: str
    author_name: str
    author_email: str
    message: str
    date: datetime
    size: int
    content_sha256: str

    @classmethod
    def of(cls, version: FileVersion) -> VersionOut:
        return cls(
            id=version.id,
            author_name=version.author_name,
            author_email=version.author_email,
            message=version.message,
            date=version.date,
            size=version.size,
            content_sha256=version.content_sha256,
        )


class CheckInOut(BaseModel):
    """A check-in (or rollback): the file now, and the new version (None: unchanged)."""

    file: FileOut
    version: VersionOut | None
    changed: bool
    released: bool


class FieldChangeOut(BaseModel):
    field: str
    old: str | int
    new: str | int
    changed: bool


class DiffOut(BaseModel):
    """Two versions compared: ``unified`` for text, metadata ``changes`` always."""

    kind: Literal["text", "binary", "too_large"]
    from_version: VersionOut
    to_version: VersionOut
    identical: bool
    unified: str | None
    changes: list[FieldChangeOut]

    @classmethod
    def of(cls, old: FileVersion, new: FileVersion, result: diffing.VersionDiff) -> DiffOut:
        return cls(
            kind=result.kind,
            from_version=VersionOut.of(old),
            to_version=VersionOut.of(new),
            identical=result.identical,
            unified=result.unified,
            changes=[
                FieldChangeOut(field=c.field, old=c.old, new=c.new, changed=c.changed)
                for c in result.changes
            ],
        )


class SyncOut(BaseModel):
    """Files a sync found: new ones, ones with a newer version, and ones the vault may not hold
    (other extensions or bad names), which it left out."""

    added: int
    updated: int
    ignored: int
