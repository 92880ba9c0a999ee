"""The watcher's hourly housekeeping: what each feature forgets or sums up over time.

- the webhook inbox past ``inbox_retention_days`` (ingest);
- sign-in attempts and expired refresh tokens past their retention (auth);
- refused sign-ins counted in windows that have passed, summed up in one audit entry each (audit).
"""

from __future__ import annotations

import logging
from datetime import datetime

from merge_assist.audit import tallies
from merge_assist.auth import retention
from merge_assist.ingest import service as inbox
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.web import AppResources

log = logging.getLogger(__name__)


async def housekeeping(res: AppResources, now: datetime) -> None:
    """One pass, one unit of work per feature (a failure in one does not undo the others)."""
    settings = res.settings
    async with unit_of_work(res.sessions) as session:
        deleted = await inbox.prune(session, now=now, retention_days=settings.inbox_retention_days)
    if deleted:
        log.info("pruned the event inbox", extra={"deleted": deleted})
    async with unit_of_work(res.sessions) as session:
        pruned = await retention.prune_sign_in_records(session, settings, now)
    if pruned.login_attempts or pruned.refresh_tokens:
        log.info(
            "pruned sign-in records",
            extra={
                "login_attempts": pruned.login_attempts,
                "refresh_tokens": pruned.refresh_tokens,
            },
        )
    async with unit_of_work(res.sessions) as session:
        summed = await tallies.close_windows(
            session, now=now, window_seconds=settings.audit_refusal_window_seconds
        )
    if summed:
        log.info("summed up repeated refused sign-ins", extra={"entries": summed})
