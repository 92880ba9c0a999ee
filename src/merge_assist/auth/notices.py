"""How auth tells a user something outside the answer to their request.

Auth sits below messaging, so it does not send messages itself: it says what to tell whom
through ``UserNotices``, and the app's assembly plugs messaging's system messages in
(``server/app.py``; ``messaging.system_notices``) under ``USER_NOTICES``. A process without
it fails at the first notice (``MissingService``) instead of dropping it.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.web import ServiceKey


class UserNotices(Protocol):
    """Delivers a notice to one user, in ``session`` (so it commits with what caused it)."""

    async def notify(self, session: AsyncSession, *, user_id: int, subject: str, body: str) -> None:
        """Tell ``user_id`` ``subject``/``body``."""
        ...


USER_NOTICES: ServiceKey[UserNotices] = ServiceKey("user notices")
"""Auth's notices to users (messaging's system messages, provided by ``create_resources``)."""
