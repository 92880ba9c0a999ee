"""Queries of the vault tables (no rules here; ``service`` decides)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.models import User
from merge_assist.vault.models import Vault, VaultFile, VaultLock

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])


class FileStatus(enum.StrEnum):
    """The list's status filter."""

    available = "available"
    checked_out = "checked_out"
    mine = "mine"


class FileSort(enum.StrEnum):
    """The list's sort keys."""

    name = "name"
    size = "size"
    status = "status"
    modified = "modified"


@dataclass(frozen=True)
class FileFilter:
    """What the file list shows: a search, a status, an order, a page."""

    vault_id: int
    viewer_id: int
    search: str | None = None
    status: FileStatus | None = None
    sort: FileSort = FileSort.name
    descending: bool = False
    # Standalone mode: locks live on GitLab, not in ``vault_locks``; the status filter and sort
    # then use the paths GitLab reports locked (and locked by the viewer).
    locked_paths: frozenset[str] | None = None
    my_paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FileRow:
    """A file with its lock and the lock holder's names (None when available)."""

    file: VaultFile
    lock: VaultLock | None
    holder_username: str | None
    holder_display_name: str | None


async def serialise_writes(session: AsyncSession) -> None:
    """SQLite: take the single writer lock now (a write that changes nothing), so a read that
    decides a write cannot be overtaken; other writers wait on ``busy_timeout``. PostgreSQL
    needs nothing: the unique constraints arbitrate."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("UPDATE vault_locks SET id = id WHERE 0 = 1"))


async def vault_by_id(session: AsyncSession, vault_id: int) -> Vault | None:
    return await session.get(Vault, vault_id)


async def vault_by_name(session: AsyncSession, name: str) -> Vault | None:
    return (await session.execute(select(Vault).where(Vault.name == name))).scalar_one_or_none()


async def list_vaults(session: AsyncSession) -> Sequence[Vault]:
    return (await session.execute(select(Vault).order_by(Vault.name))).scalars().all()


async def file_counts(session: AsyncSession, vault_ids: Sequence[int]) -> dict[int, int]:
    """How many files each vault holds (vaults without files are absent)."""
    if not vault_ids:
        return {}
    statement = (
        select(VaultFile.vault_id, func.count())
        .where(VaultFile.vault_id.in_(list(vault_ids)))
        .group_by(VaultFile.vault_id)
    )
    rows = (await session.execute(statement)).all()
    return {int(vault_id): int(count) for vault_id, count in rows}


async def vaults_of_project(session: AsyncSession, project_id: int) -> Sequence[Vault]:
    statement = select(Vault).where(Vault.project_id == project_id).order_by(Vault.id)
    return (await session.execute(statement)).scalars().all()


async def add(session: AsyncSession, row: Any) -> None:
    """Insert ``row`` and flush (its id is known afterwards)."""
    session.add(row)
    await session.flush()


async def add_unless_present(session: AsyncSession, row: Any) -> bool:
    """Insert ``row`` unless a unique constraint says it is there already (False then); the
    session stays usable either way (the insert runs in a savepoint)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


async def file_by_id(session: AsyncSession, vault_id: int, file_id: int) -> VaultFile | None:
    statement = select(VaultFile).where(VaultFile.id == file_id, VaultFile.vault_id == vault_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def files_of_vault(session: AsyncSession, vault_id: int) -> Sequence[VaultFile]:
    statement = select(VaultFile).where(VaultFile.vault_id == vault_id)
    return (await session.execute(statement)).scalars().all()


async def file_by_path(session: AsyncSession, vault_id: int, path: str) -> VaultFile | None:
    statement = select(VaultFile).where(VaultFile.vault_id == vault_id, VaultFile.path == path)
    return (await session.execute(statement)).scalar_one_or_none()


async def first_path_below(session: AsyncSession, vault_id: int, folder: str) -> str | None:
    """A file path inside ``folder`` (None: no file is in it)."""
    pattern = _escape_like(folder) + "/%"
    statement = (
        select(VaultFile.path)
        .where(VaultFile.vault_id == vault_id, VaultFile.path.like(pattern, escape="\\"))
        .order_by(VaultFile.path)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def move_file_version(
    session: AsyncSession, file: VaultFile, *, expected: str, values: dict[str, Any]
) -> bool:
    """Set the file's new version only if it still is ``expected`` (False: someone was first)."""
    statement = (
        update(VaultFile)
        .where(VaultFile.id == file.id, VaultFile.current_version == expected)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    moved = bool((await session.execute(statement)).rowcount == 1)  # type: ignore[attr-defined]
    if moved:
        await session.refresh(file)
    return moved


def _file_rows(vault_id: int) -> Select[VaultFile, VaultLock, str, str]:
    return (
        select(VaultFile, VaultLock, User.username, User.display_name)
        .outerjoin(VaultLock, VaultLock.file_id == VaultFile.id)
        .outerjoin(User, User.id == VaultLock.holder_id)
        .where(VaultFile.vault_id == vault_id)
    )


def _row(values: Any) -> FileRow:
    return FileRow(values[0], values[1], values[2], values[3])


async def file_row(session: AsyncSession, vault_id: int, file_id: int) -> FileRow | None:
    found = (await session.execute(_file_rows(vault_id).where(VaultFile.id == file_id))).first()
    return _row(found) if found is not None else None


def _escape_like(text: str) -> str:
    """``text`` matched literally by ``LIKE ... ESCAPE '\\'`` (no ``%`` or ``_`` wildcards)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(statement: SelectT, filters: FileFilter) -> SelectT:
    if filters.search:
        pattern = "%" + _escape_like(filters.search.lower()) + "%"
        statement = statement.where(func.lower(VaultFile.path).like(pattern, escape="\\"))
    if filters.status is FileStatus.available:
        statement = statement.where(~_is_locked(filters))
    elif filters.status is FileStatus.checked_out:
        statement = statement.where(_is_locked(filters))
    elif filters.status is FileStatus.mine:
        if filters.locked_paths is None:
            statement = statement.where(VaultLock.holder_id == filters.viewer_id)
        else:
            statement = statement.where(VaultFile.path.in_(sorted(filters.my_paths)))
    return statement


def _is_locked(filters: FileFilter) -> ColumnElement[bool]:
    if filters.locked_paths is None:
        return VaultLock.id.is_not(None)
    return VaultFile.path.in_(sorted(filters.locked_paths))


async def list_file_rows(
    session: AsyncSession, filters: FileFilter, *, limit: int, offset: int
) -> list[FileRow]:
    """A page of files matching ``filters``, in the asked order (path breaks ties)."""
    keys = {
        FileSort.name: func.lower(VaultFile.path),
        FileSort.size: VaultFile.size,
        FileSort.status: case((_is_locked(filters), 1), else_=0),
        FileSort.modified: VaultFile.updated_at,
    }
    key = keys[filters.sort]
    order = [key.desc() if filters.descending else key.asc(), VaultFile.path.asc()]
    statement = _filtered(_file_rows(filters.vault_id), filters).order_by(*order)
    rows = (await session.execute(statement.limit(limit).offset(offset))).all()
    return [_row(values) for values in rows]


async def count_files(session: AsyncSession, filters: FileFilter | None, vault_id: int) -> int:
    """How many files match ``filters`` (every file of the vault when None)."""
    statement = (
        select(func.count(VaultFile.id))
        .select_from(VaultFile)
        .outerjoin(VaultLock, VaultLock.file_id == VaultFile.id)
        .where(VaultFile.vault_id == vault_id)
    )
    if filters is not None:
        statement = _filtered(statement, filters)
    return int((await session.execute(statement)).scalar_one())


async def lock_of(
    session: AsyncSession, file_id: int, *, for_update: bool = False
) -> tuple[VaultLock, User] | None:
    """The lock of ``file_id`` and its holder; ``for_update`` holds the row (PostgreSQL) until
    the transaction ends, so a concurrent force unlock waits for a check-in to finish."""
    statement = (
        select(VaultLock, User)
        .join(User, User.id == VaultLock.holder_id)
        .where(VaultLock.file_id == file_id)
    )
    if for_update:
        statement = statement.with_for_update(of=VaultLock)
    found = (await session.execute(statement)).first()
    return (found[0], found[1]) if found is not None else None


async def delete_lock(session: AsyncSession, lock_id: int) -> bool:
    """Remove one lock row (False when it was already gone)."""
    statement = delete(VaultLock).where(VaultLock.id == lock_id)
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def locked_paths_of_vaults(
    session: AsyncSession, vault_ids: Sequence[int], paths: Sequence[str]
) -> list[tuple[int, str, int, str]]:
    """``(vault id, file path, holder id, holder username)`` of locked files among ``paths``."""
    if not vault_ids or not paths:
        return []
    statement = (
        select(VaultFile.vault_id, VaultFile.path, User.id, User.username)
        .join(VaultLock, VaultLock.file_id == VaultFile.id)
        .join(User, User.id == VaultLock.holder_id)
        .where(and_(VaultFile.vault_id.in_(vault_ids), VaultFile.path.in_(paths)))
    )
    return [(r[0], r[1], r[2], r[3]) for r in (await session.execute(statement)).all()]
