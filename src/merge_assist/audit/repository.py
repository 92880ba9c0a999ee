"""Queries on ``audit_entries`` and ``audit_refusal_tallies`` (no rules here; the services
decide what to write)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit.models import AuditEntry, RefusalTally
from merge_assist.kit.db import upsert_insert

# Key of the transaction-level advisory lock that serialises appends on PostgreSQL. A fixed,
# distinctive 64-bit value ("MAaudit" in ASCII) so no other feature's lock key collides with it.
CHAIN_LOCK_KEY = 0x4D41_6175_6469_74


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a search or an export; ``None`` means "any".

    ``action`` matches exactly, or as a prefix when it ends with ``*`` (``vault.*``).
    ``since`` is inclusive, ``until`` exclusive.
    """

    actor: str | None = None
    actor_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    success: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of these filters."""
        table = AuditEntry
        found: list[ColumnElement[bool]] = []
        if self.actor is not None:
            found.append(table.actor_name == self.actor)
        if self.actor_id is not None:
            found.append(table.actor_id == self.actor_id)
        if self.action is not None:
            if self.action.endswith("*"):
                found.append(table.action.startswith(self.action[:-1], autoescape=True))
            else:
                found.append(table.action == self.action)
        if self.target_type is not None:
            found.append(table.target_type == self.target_type)
        if self.target_id is not None:
            found.append(table.target_id == self.target_id)
        if self.success is not None:
            found.append(table.success.is_(self.success))
        if self.since is not None:
            found.append(table.occurred_at >= self.since)
        if self.until is not None:
            found.append(table.occurred_at < self.until)
        return found


async def lock_chain(session: AsyncSession) -> None:
    """Hold the right to append until the transaction ends.

    PostgreSQL: a transaction-level advisory lock; the tail read after it sees every entry
    committed before (READ COMMITTED takes a new snapshot per statement).
    SQLite: a write statement that changes nothing. It makes the driver open the transaction
    and take SQLite's single RESERVED (writer) lock now, before the tail is read, which is what
    ``BEGIN IMMEDIATE`` would do; other writers wait on ``busy_timeout`` until we commit.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    elif dialect == "sqlite":
        await session.execute(text("UPDATE audit_entries SET id = id WHERE 0 = 1"))
    else:  # pragma: no cover - the product supports SQLite and PostgreSQL only
        raise NotImplementedError(f"audit chain locking is not implemented for {dialect}")


async def tail_hash(session: AsyncSession) -> str | None:
    """The hash of the newest entry, or ``None`` for an empty log."""
    statement = select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    return (await session.execute(statement)).scalar_one_or_none()


async def add(session: AsyncSession, entry: AuditEntry) -> AuditEntry:
    """Insert ``entry`` and flush so its id is known."""
    session.add(entry)
    await session.flush()
    return entry


async def rows_after(session: AsyncSession, after_id: int, limit: int) -> Sequence[Row[Any]]:
    """Raw rows (not ORM objects, so nothing cached in the session hides an edit) after an id."""
    statement = (
        select(*AuditEntry.__table__.c)
        .where(AuditEntry.__table__.c.id > after_id)
        .order_by(AuditEntry.__table__.c.id)
        .limit(limit)
    )
    return (await session.execute(statement)).all()


def _filtered(query: AuditQuery) -> Select[AuditEntry]:
    return select(AuditEntry).where(*query.conditions())


async def search(
    session: AsyncSession, query: AuditQuery, *, limit: int, offset: int
) -> Sequence[AuditEntry]:
    """Matching entries, newest first."""
    statement = _filtered(query).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return (await session.scalars(statement)).all()


async def count(session: AsyncSession, query: AuditQuery) -> int:
    """How many entries match."""
    statement = select(func.count()).select_from(AuditEntry).where(*query.conditions())
    return int((await session.execute(statement)).scalar_one())


async def stream(
    session: AsyncSession, query: AuditQuery, *, page_size: int
) -> AsyncIterator[AuditEntry]:
    """Matching entries in chain order, fetched in pages by id (keyset, not OFFSET)."""
    after_id = 0
    while True:
        statement = (
            _filtered(query)
            .where(AuditEntry.id > after_id)
            .order_by(AuditEntry.id)
            .limit(page_size)
        )
        page = (await session.scalars(statement)).all()
        for entry in page:
            yield entry
        if len(page) < page_size:
            return
        after_id = page[-1].id


async def open_tally(session: AsyncSession, tally: RefusalTally) -> bool:
    """Insert ``tally`` unless its (action, target, address, reason, window) exists; True if new.

    One statement (``ON CONFLICT DO NOTHING``), so two racing refusals never both count as the
    first of their window.
    """
    values = {
        column.name: getattr(tally, column.key)
        for column in RefusalTally.__table__.c
        if column.name != "id"
    }
    insert = upsert_insert(session.get_bind().dialect.name, RefusalTally.__table__)
    result = await session.execute(insert.values(**values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0))


def _same_key(tally: RefusalTally) -> list[ColumnElement[bool]]:
    return [
        RefusalTally.action == tally.action,
        RefusalTally.target == tally.target,
        RefusalTally.address == tally.address,
        RefusalTally.reason == tally.reason,
        RefusalTally.window_start == tally.window_start,
    ]


async def bump_tally(session: AsyncSession, tally: RefusalTally) -> None:
    """One more refusal in an open window: ``count + 1`` (in the database), ``last_at``."""
    await session.execute(
        update(RefusalTally)
        .where(*_same_key(tally))
        .values(count=RefusalTally.count + 1, last_at=tally.last_at)
    )


async def set_tally_entry(session: AsyncSession, tally: RefusalTally, entry_id: int) -> None:
    """Remember the entry that logged the first refusal of ``tally``'s window."""
    await session.execute(
        update(RefusalTally).where(*_same_key(tally)).values(first_entry_id=entry_id)
    )


async def closed_tallies(session: AsyncSession, started_before: datetime) -> Sequence[RefusalTally]:
    """Tallies whose window started before ``started_before`` (their window has passed)."""
    statement = (
        select(RefusalTally)
        .where(RefusalTally.window_start < started_before)
        .order_by(RefusalTally.window_start, RefusalTally.id)
    )
    return (await session.execute(statement)).scalars().all()


async def delete_tally(session: AsyncSession, tally_id: int) -> None:
    """Forget one closed tally."""
    await session.execute(delete(RefusalTally).where(RefusalTally.id == tally_id))
