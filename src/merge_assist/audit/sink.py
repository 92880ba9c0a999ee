"""The audit log as the ``AuditSink`` other features record through."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service, tallies
from merge_assist.audit.models import AuditEntry
from merge_assist.auth import accounts
from merge_assist.kit.errors import NotFound


class AuditLogSink:
    """Records ``feature.action`` on ``type:id`` targets into the hash-chained log.

    ``unattributed_actor`` names who acted when no user did: ``anonymous`` for a refused
    sign-in over HTTP, ``cli`` for an operator at the command line.
    """

    def __init__(self, unattributed_actor: str = "anonymous") -> None:
        self.unattributed_actor = unattributed_actor

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
        """Append one entry in ``session`` so it commits with the action it describes.

        Refused sign-ins are aggregated per window (``audit/tallies.py``): the first of a kind
        is appended, the repeats are counted and summed up once the window has passed.
        """
        target_type, _, target_id = target.partition(":")
        actor_name = await self._actor_name(session, actor_id)

        async def write(entry_details: dict[str, Any]) -> AuditEntry:
            return await service.record(
                session,
                actor_id=actor_id,
                actor_name=actor_name,
                action=action,
                target_type=target_type or None,
                target_id=target_id or None,
                success=success,
                details=entry_details,
            )

        if tallies.is_tallied(action, success):
            await tallies.record_refusal(
                session, action=action, target=target, details=details, write=write
            )
            return
        await write(details)

    async def _actor_name(self, session: AsyncSession, actor_id: int | None) -> str:
        if actor_id is None:
            return self.unattributed_actor
        try:
            user = await accounts.get_user(session, actor_id)
        except NotFound:
            return f"user#{actor_id}"
        return user.username
