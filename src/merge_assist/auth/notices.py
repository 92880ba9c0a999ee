"""How auth tells a user something outside the answer to their request.

Auth sits below messaging, so it does not send messages itself: it says what to tell whom
through ``UserNotices``, and the app's assembly plugs messaging's system messages in
(``server/app.py``; ``messaging.system_notices``). A process without it fails at the first
notice instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

NOTICES_EXTRAS_KEY = "user_notices"


class UserNotices(Protocol):
    """Delivers a notice to one user, in ``session`` (so it commits with what caused it)."""

    async def notify(self, session: AsyncSession, *, user_id: int, subject: str, body: str) -> None:
        """Tell ``user_id`` ``subject``/``body``."""
        ...


def user_notices(extras: Mapping[str, Any]) -> UserNotices:
    """The notices registered on the app's resources; a missing one is a wiring error."""
    notices: UserNotices | None = extras.get(NOTICES_EXTRAS_KEY)
    if notices is None:
        raise RuntimeError(f"No UserNotices under {NOTICES_EXTRAS_KEY!r} in the app's resources.")
    return notices
