"""Publishing live events after the commit, and the ``LiveSession`` dependency.

A feature publishes with ``publish_after_commit(session, LiveEvent.for_users(...))`` while it
works. The event waits in the session and reaches the hub only once that session's transaction
commits (it is dropped on rollback), so a browser never hears of something the database does
not hold. A request's session is tied to the app's hub by the ``LiveSession`` dependency; a unit
of work outside a request calls ``attach(session, hub_of(res))``.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from merge_assist.kit.after_commit import after_commit, listen
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.web import Resources, Session

log = logging.getLogger(__name__)

_HUB_KEY = "merge_assist.live.hub"


def publish_after_commit(session: AsyncSession, live_event: LiveEvent) -> None:
    """Send ``live_event`` once ``session`` commits (dropped if it rolls back).

    Delivery needs a hub attached to the session (``LiveSession`` or ``attach``); without one
    nobody on this process listens and the event is dropped at commit. Do not publish inside a
    savepoint you may roll back: only the outer transaction's outcome is followed.
    """
    live_event.encode()  # fail now, in the caller, not after the commit

    def deliver(sync: SyncSession) -> None:
        hub: UpdatesHub | None = sync.info.get(_HUB_KEY)
        if hub is None:
            log.debug("live event dropped: no hub attached", extra={"type": live_event.type})
            return
        try:
            hub.publish(live_event)
        except Exception:  # the commit happened: a failed notification must not undo the answer
            log.exception("live event not delivered", extra={"type": live_event.type})

    after_commit(session, deliver)


def attach(session: AsyncSession, hub: UpdatesHub) -> None:
    """Deliver the events published on ``session`` to ``hub`` after each commit."""
    session.sync_session.info[_HUB_KEY] = hub
    listen(session.sync_session)


async def live_session(session: Session, res: Resources) -> AsyncSession:
    """The request's session, with its live events delivered to the app's hub after commit."""
    attach(session, hub_of(res))
    return session


LiveSession = Annotated[AsyncSession, Depends(live_session)]
