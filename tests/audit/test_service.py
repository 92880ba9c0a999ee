from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import JSON, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.audit import service
from merge_assist.audit.chain import GENESIS_HASH
from merge_assist.audit.models import AuditEntry
from merge_assist.audit.repository import AuditQuery
from merge_assist.kit.db import unit_of_work
from tests.audit.conftest import RecordEntries


async def _verify(sessions: async_sessionmaker[AsyncSession]) -> service.VerifyResult:
    async with sessions() as session:
        return await service.verify(session, page_size=2)  # small pages: the walk crosses pages


async def _execute(
    sessions: async_sessionmaker[AsyncSession], statement: str, **params: object
) -> None:
    async with unit_of_work(sessions) as session:
        await session.execute(text(statement), params)


async def test_entries_link_into_a_chain(record_entries: RecordEntries) -> None:
    first, second, third = await record_entries(3)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert third.prev_hash == second.entry_hash
    assert first.id < second.id < third.id
    assert first.occurred_at <= second.occurred_at <= third.occurred_at


async def test_verify_of_an_intact_log(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert await _verify(sessions) == service.VerifyResult(True, 0, None, None, None)
    entries = await record_entries(5)
    result = await _verify(sessions)
    assert result.ok
    assert result.checked == 5
    assert result.head_hash == entries[-1].entry_hash


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        ("UPDATE audit_entries SET action = 'vault.rollback' WHERE id = :id", {}),
        ("UPDATE audit_entries SET success = :no WHERE id = :id", {"no": False}),
        ("UPDATE audit_entries SET actor_name = 'mallory' WHERE id = :id", {}),
    ],
)
async def test_verify_names_an_edited_entry(
    record_entries: RecordEntries,
    sessions: async_sessionmaker[AsyncSession],
    statement: str,
    params: dict[str, object],
) -> None:
    entries = await record_entries(5)
    await _execute(sessions, statement, id=entries[2].id, **params)
    result = await _verify(sessions)
    assert not result.ok
    assert result.first_broken_id == entries[2].id
    assert result.checked == 2
    assert result.reason is not None
    assert "changed after it was written" in result.reason


async def test_verify_names_entry_with_edited_details(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(4)
    async with unit_of_work(sessions) as session:
        statement = text("UPDATE audit_entries SET details = :details WHERE id = :id").bindparams(
            bindparam("details", type_=JSON)
        )
        await session.execute(statement, {"details": {"path": "elsewhere"}, "id": entries[1].id})
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, entries[1].id)


async def test_resealed_edit_is_caught_at_the_edited_entry(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An attacker who recomputes the edited entry's hash without the audit key is caught."""
    entries = await record_entries(4)
    async with unit_of_work(sessions) as session:
        victim = await session.get(AuditEntry, entries[1].id)
        assert victim is not None
        victim.details = {"path": "forged"}
        victim.entry_hash = service.chain.compute_hash(service.fields_of(victim), victim.prev_hash)
    result = await _verify(sessions)
    assert result.first_broken_id == entries[1].id
    assert result.reason is not None
    assert "audit key" in result.reason


async def test_a_database_writer_cannot_rewrite_history_and_recompute_the_hashes(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Issue 13, item 13: edit an entry, then re-link and re-hash every entry after it (SQL
    only, as someone holding just the database password would); the audit key shows it."""
    entries = await record_entries(4)
    async with unit_of_work(sessions) as session:
        prev = entries[0].entry_hash
        for entry in entries[1:]:
            row = await session.get(AuditEntry, entry.id)
            assert row is not None
            if entry is entries[1]:
                row.actor_name = "mallory"
            # Through placeholders first: prev_hash and entry_hash are unique columns.
            row.prev_hash, row.entry_hash = f"{entry.id:064x}", f"{entry.id + 100:064x}"
            await session.flush()
            row.prev_hash = prev
            row.entry_hash = service.chain.compute_hash(service.fields_of(row), prev)
            await session.flush()
            prev = row.entry_hash
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, entries[1].id)


async def test_verify_says_the_chain_is_keyed_and_checks_old_unkeyed_entries(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Entries of an old release (unkeyed) still verify, sealed by the first keyed one."""
    old = await record_entries(3)
    async with unit_of_work(sessions) as session:
        prev = service.chain.GENESIS_HASH
        for entry in old:
            row = await session.get(AuditEntry, entry.id)
            assert row is not None
            row.prev_hash, row.hash_scheme = prev, service.chain.UNKEYED_SCHEME
            row.entry_hash = service.chain.compute_hash(service.fields_of(row), prev)
            await session.flush()
            prev = row.entry_hash
    only_old = await _verify(sessions)
    assert (only_old.ok, only_old.keyed, only_old.unkeyed) == (False, False, 3)
    new = await record_entries(2)
    result = await _verify(sessions)
    assert result.ok, result.reason
    assert (result.checked, result.unkeyed, result.first_keyed_id) == (5, 3, new[0].id)
    # An old entry edited and the unkeyed entries re-hashed: the first keyed entry's link,
    # sealed under the key, no longer matches.
    async with unit_of_work(sessions) as session:
        first = await session.get(AuditEntry, old[0].id)
        assert first is not None
        prev = first.entry_hash
        for entry in old[1:]:
            row = await session.get(AuditEntry, entry.id)
            assert row is not None
            row.actor_name = "mallory"
            row.prev_hash, row.entry_hash = f"{entry.id:064x}", f"{entry.id + 100:064x}"
            await session.flush()
            row.prev_hash = prev
            row.entry_hash = service.chain.compute_hash(service.fields_of(row), prev)
            await session.flush()
            prev = row.entry_hash
    broken = await _verify(sessions)
    assert broken.first_broken_id == new[0].id


async def test_verify_names_the_entry_after_a_deleted_one(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(5)
    await _execute(sessions, "DELETE FROM audit_entries WHERE id = :id", id=entries[2].id)
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id, result.checked) == (False, entries[3].id, 2)


async def test_verify_notices_a_deleted_first_entry(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(3)
    await _execute(sessions, "DELETE FROM audit_entries WHERE id = :id", id=entries[0].id)
    result = await _verify(sessions)
    assert result.first_broken_id == entries[1].id
    assert result.reason is not None
    assert "first entry" in result.reason


async def test_verify_notices_swapped_hashes(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(4)
    a, b = entries[1], entries[2]
    swap = "UPDATE audit_entries SET entry_hash = :value WHERE id = :id"
    async with unit_of_work(sessions) as session:  # via a placeholder: hashes are unique
        await session.execute(text(swap), {"value": "x" * 64, "id": a.id})
        await session.execute(text(swap), {"value": a.entry_hash, "id": b.id})
        await session.execute(text(swap), {"value": b.entry_hash, "id": a.id})
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, a.id)


async def test_verify_notices_reordered_entries(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Moving entry 3 before entry 2 (ids swapped) breaks the link at the first moved entry."""
    entries = await record_entries(4)
    a, b = entries[1].id, entries[2].id
    move = "UPDATE audit_entries SET id = :new WHERE id = :old"
    async with unit_of_work(sessions) as session:
        await session.execute(text(move), {"new": -1, "old": a})
        await session.execute(text(move), {"new": a, "old": b})
        await session.execute(text(move), {"new": b, "old": -1})
    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, a)


async def test_record_flushes_but_never_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        entry = await service.record(
            session, actor_id=1, actor_name="alice", action="auth.login", success=True
        )
        assert entry.id is not None
        await session.rollback()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_secret_named_details_are_never_stored(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with unit_of_work(sessions) as session:
        entry = await service.record(
            session,
            actor_id=None,
            actor_name="bob",
            action="auth.login",
            success=False,
            details={"username": "bob", "password": "hunter2", "reason": "bad password"},
        )
    assert entry.details == {"username": "bob", "reason": "bad password"}
    (warning,) = [r for r in caplog.records if r.name == "merge_assist.audit.service"]
    assert warning.keys == ["password"]  # type: ignore[attr-defined]  # named, so it gets fixed
    assert "hunter2" not in caplog.text
    assert "hunter2" not in str(vars(warning))


async def test_target_ids_are_stored_as_text(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as session:
        entry = await service.record(
            session,
            actor_id=3,
            actor_name="carol",
            action="vault.checkin",
            target_type="file",
            target_id=42,
            success=True,
        )
    assert entry.target_id == "42"
    assert (await _verify(sessions)).ok


async def test_concurrent_records_keep_one_chain(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def one(index: int) -> None:
        async with unit_of_work(sessions) as session:
            await service.record(
                session,
                actor_id=index,
                actor_name=f"user-{index}",
                action="vault.checkout",
                target_type="file",
                target_id=str(index),
                success=True,
            )

    await asyncio.gather(*(one(index) for index in range(20)))
    result = await _verify(sessions)
    assert (result.ok, result.checked) == (True, 20)


async def test_the_database_refuses_a_fork(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Belt and braces: a second entry linking to the same predecessor cannot be stored."""
    (first,) = await record_entries(1)
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as session:
            session.add(
                AuditEntry(
                    occurred_at=first.occurred_at,
                    actor_id=None,
                    actor_name="mallory",
                    action="vault.force",
                    success=True,
                    details={},
                    prev_hash=first.prev_hash,
                    entry_hash="f" * 64,
                )
            )


async def test_search_combines_filters_and_pages(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    early = await record_entries(2)
    late = await record_entries(3, actor_name="bob", action="vault.checkin")
    async with sessions() as session:
        page = await service.search(
            session, AuditQuery(actor="bob", action="vault.*"), limit=2, offset=0
        )
        assert [e.id for e in page.items] == [late[2].id, late[1].id]
        assert page.total == 3
        before = await service.search(session, AuditQuery(until=late[0].occurred_at))
        assert {e.id for e in before.items} == {e.id for e in early}
        none = await service.search(session, AuditQuery(actor="bob", success=False))
        assert (none.items, none.total) == ([], 0)
        exported = [e.id async for e in service.export(session, page_size=2)]
        assert exported == [e.id for e in early + late]
