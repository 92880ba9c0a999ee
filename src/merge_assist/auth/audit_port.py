"""What auth needs from outside and from its callers: the audit sink it records through (the
audit feature sits above auth and provides the real one under ``AUDIT_SINK``) and where a
request comes from (``ClientInfo``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.web import ServiceKey


class AuditSink(Protocol):
    """Where security-relevant actions are recorded (the audit feature provides the real one)."""

    async def record(
        self,
        session: AsyncSession,
        *,
        actor_id: int | None,
        action: str,
        target: str,
        success: bool,
        details: dict[str, Any],
    ) -> None:
        """Record one action in ``session`` (so it commits with the action itself)."""
        ...


AUDIT_SINK: ServiceKey[AuditSink] = ServiceKey("audit sink")
"""The app's audit sink (the audit feature's log, provided by ``create_resources``)."""


class NullAuditSink:
    """Records nothing (for tests and tools that act without an audit log)."""

    async def record(
        self,
        session: AsyncSession,
        *,
        actor_id: int | None,
        action: str,
        target: str,
        success: bool,
        details: dict[str, Any],
    ) -> None:
        """Do nothing."""
        return None


@dataclass(frozen=True)
class ClientInfo:
    """Where a request comes from (kept with refresh tokens and used for throttling)."""

    address: str | None = None
    user_agent: str | None = None
