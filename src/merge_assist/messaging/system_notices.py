"""Auth's ``UserNotices`` delivered as system messages (wired in by ``server/app.py``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.messaging.service import send_system


class SystemMessageNotices:
    """Each notice is a system message to its user (skipped when they are deactivated)."""

    async def notify(self, session: AsyncSession, *, user_id: int, subject: str, body: str) -> None:
        """Send ``subject``/``body`` to ``user_id`` from the product."""
        await send_system(session, to_user_ids=[user_id], subject=subject, body=body)
