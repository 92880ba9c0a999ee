"""API shapes of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryOut(BaseModel):
    """One entry as the API shows it (hashes included, so clients can check links)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    target_type: str | None
    target_id: str | None
    success: bool
    details: dict[str, Any]
    prev_hash: str
    entry_hash: str


class AuditPageOut(BaseModel):
    """A page of entries, newest first."""

    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int
