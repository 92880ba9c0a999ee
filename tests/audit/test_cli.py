"""``merge-assist audit ...`` against a real database named by ``MERGE_ASSIST_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from merge_assist.audit.chain import GENESIS_HASH, UNKEYED_SCHEME, compute_hash
from merge_assist.audit.models import AuditEntry
from merge_assist.audit.service import fields_of
from merge_assist.cli import app
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.settings import Settings, get_settings
from tests.audit.conftest import RecordEntries


@pytest.fixture
def configured(
    database_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[None]:
    monkeypatch.setenv("MERGE_ASSIST_DATABASE_URL", database_url)
    # The same secret key as the entries' writer: the audit key is derived from it.
    monkeypatch.setenv("MERGE_ASSIST_SECRET_KEY", settings.resolved_secret_key())
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def invoke(*args: str) -> Result:
    # In a thread: the command runs its own event loop, as it does from a shell.
    return await asyncio.to_thread(CliRunner().invoke, app, ["audit", *args])


@pytest.mark.usefixtures("configured")
async def test_verify_intact_log_exits_zero(record_entries: RecordEntries) -> None:
    entries = await record_entries(3)
    result = await invoke("verify")
    assert result.exit_code == 0, result.output
    assert "audit log intact: 3 entries" in result.output
    assert "keyed chain (HMAC-SHA256 under the audit key) from entry #" in result.output
    assert entries[-1].entry_hash in result.output


@pytest.mark.usefixtures("configured")
async def test_verify_broken_log_exits_one(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(3)
    async with unit_of_work(sessions) as session:
        await session.execute(
            text("UPDATE audit_entries SET actor_name = 'mallory' WHERE id = :id"),
            {"id": entries[1].id},
        )
    result = await invoke("verify")
    assert result.exit_code == 1
    assert f"audit log broken at entry #{entries[1].id}: " in result.output


@pytest.mark.usefixtures("configured")
async def test_list_filters_by_action(record_entries: RecordEntries) -> None:
    await record_entries(2)
    (login,) = await record_entries(1, action="auth.login", actor_name="bob")
    result = await invoke("list", "--action", "auth.login")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"#{login.id}  ")
    assert "bob  auth.login" in lines[0]
    assert lines[-1] == "1 of 1 entries"


@pytest.mark.usefixtures("configured")
async def test_export_jsonl_to_stdout(record_entries: RecordEntries) -> None:
    entries = await record_entries(2)
    result = await invoke("export", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["entry_hash"] for r in records] == [e.entry_hash for e in entries]


@pytest.mark.usefixtures("configured")
async def test_export_csv_to_file(record_entries: RecordEntries, tmp_path: Path) -> None:
    entries = await record_entries(2)
    target = tmp_path / "audit.csv"
    result = await invoke("export", "--format", "csv", "--output", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [int(row["id"]) for row in rows] == [e.id for e in entries]


async def test_missing_table_is_explained(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # database_url alone: an empty database that was never migrated.
    monkeypatch.setenv("MERGE_ASSIST_DATABASE_URL", database_url)
    monkeypatch.setenv("MERGE_ASSIST_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = await invoke("verify")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "merge-assist db upgrade" in result.output


@pytest.mark.usefixtures("configured")
async def test_verify_with_another_key_names_the_audit_key(
    record_entries: RecordEntries, monkeypatch: pytest.MonkeyPatch
) -> None:
    await record_entries(2)
    monkeypatch.setenv("MERGE_ASSIST_AUDIT_KEY", "another-audit-key-" + "x" * 32)
    get_settings.cache_clear()
    result = await invoke("verify")
    assert result.exit_code == 1
    assert "audit key" in result.output


@pytest.mark.usefixtures("configured")
async def test_an_unkeyed_chain_is_reported_and_seal_keys_it(
    record_entries: RecordEntries, sessions: async_sessionmaker[AsyncSession]
) -> None:
    entries = await record_entries(2)
    await _unkey(sessions, entries)
    result = await invoke("verify")
    assert result.exit_code == 1
    assert "no entry is sealed by the audit key" in result.output
    assert "merge-assist audit seal" in result.output
    sealed = await invoke("seal")
    assert sealed.exit_code == 0, sealed.output
    result = await invoke("verify")
    assert result.exit_code == 0, result.output
    assert "audit log intact: 3 entries" in result.output
    assert "the 2 older unkeyed entries before it are sealed by it" in result.output


async def _unkey(sessions: async_sessionmaker[AsyncSession], entries: list[AuditEntry]) -> None:
    """Turn entries into what an old release wrote: scheme 1, plain SHA-256 hashes."""
    async with unit_of_work(sessions) as session:
        prev = GENESIS_HASH
        for entry in entries:
            stored = await session.get(AuditEntry, entry.id)
            assert stored is not None
            stored.prev_hash = prev
            stored.entry_hash = compute_hash(fields_of(stored), prev)
            stored.hash_scheme = UNKEYED_SCHEME
            prev = stored.entry_hash
            await session.flush()
