"""Factories for audit tests: entries written through the real service, one commit each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.audit import service
from merge_assist.audit.models import AuditEntry
from merge_assist.kit.db import unit_of_work

RecordEntries = Callable[..., Awaitable[list[AuditEntry]]]


@pytest.fixture
def record_entries(sessions: async_sessionmaker[AsyncSession]) -> RecordEntries:
    """``await record_entries(n, **fields)``: n committed entries (``vault.checkout`` by alice)."""

    async def make(count: int = 1, **overrides: Any) -> list[AuditEntry]:
        made = []
        for index in range(count):
            fields: dict[str, Any] = {
                "actor_id": 1,
                "actor_name": "alice",
                "action": "vault.checkout",
                "target_type": "file",
                "target_id": f"file-{index}",
                "success": True,
                "details": {"path": f"art/model-{index}.fbx", "index": index},
            }
            fields.update(overrides)
            async with unit_of_work(sessions) as session:
                made.append(await service.record(session, **fields))
        return made

    return make
