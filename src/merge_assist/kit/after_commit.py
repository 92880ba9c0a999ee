"""Work that waits for a session's commit: queued while the transaction runs, done once it
commits, dropped if it rolls back.

Live events (``kit.live.publish``) and wake-ups (``kit.bus.wake``) use it so that nobody hears of
something the database does not hold. The actions run inside SQLAlchemy's ``after_commit``
event, in the order they were queued: they must be quick and must not use the session (start a
task for anything that waits). Only the outer transaction's outcome is followed: do not queue
inside a savepoint you may roll back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

log = logging.getLogger(__name__)

AfterCommit = Callable[[SyncSession], None]
"""An action run once the session commits; it gets the session (to read its ``info``)."""

_PENDING_KEY = "merge_assist.after_commit.pending"
_LISTENING_KEY = "merge_assist.after_commit.listening"


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Run ``action`` once ``session`` commits (forgotten if it rolls back)."""
    sync = session.sync_session
    sync.info.setdefault(_PENDING_KEY, []).append(action)
    listen(sync)


def listen(sync: SyncSession) -> None:
    """Follow ``sync``'s commits and rollbacks (idempotent)."""
    if sync.info.get(_LISTENING_KEY):
        return
    sync.info[_LISTENING_KEY] = True
    event.listen(sync, "after_commit", _run_pending)
    event.listen(sync, "after_rollback", _drop_pending)


def _run_pending(sync: SyncSession) -> None:
    pending: list[AfterCommit] = sync.info.pop(_PENDING_KEY, [])
    for action in pending:
        try:
            action(sync)
        except Exception:  # the commit happened: a failed follow-up must not undo the answer
            log.exception("an after-commit action failed")


def _drop_pending(sync: SyncSession) -> None:
    sync.info.pop(_PENDING_KEY, None)
