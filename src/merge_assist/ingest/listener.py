"""The listener's task: check, store once, commit, then wake the project's owner.

GitLab waits for the answer and retries on errors, so the listener does no GitLab calls and
no engine work: it stores the delivery in the inbox (one transaction) and publishes a wake-up
after the commit. A crash between the two leaves an unprocessed inbox row, which the watcher
turns into a wake-up later.
"""

from __future__ import annotations

from collections.abc import Mapping

from merge_assist.ingest import service
from merge_assist.ingest.schemas import WebhookReceipt
from merge_assist.ingest.webhooks import parse_delivery
from merge_assist.kit.clock import utcnow
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.web import AppResources
from merge_assist.workers.wakeups import bus_of, publish_wake

TOKEN_HEADER = "x-gitlab-token"  # noqa: S105 - a header name, not a secret


async def receive(res: AppResources, headers: Mapping[str, str], body: bytes) -> WebhookReceipt:
    """Handle one delivery (``headers`` with lower-case names)."""
    delivery = parse_delivery(headers, body)
    async with unit_of_work(res.sessions) as session:
        project_id = await service.authenticate(
            session, res.settings, delivery.gitlab_project_id, headers.get(TOKEN_HEADER)
        )
        stored = await service.store(session, project_id, delivery, now=utcnow())
    if stored.ignored_reason is not None:
        return WebhookReceipt(status="ignored", reason=stored.ignored_reason)
    if not stored.new:
        return WebhookReceipt(status="duplicate", duplicate=True)
    await publish_wake(bus_of(res), stored.project_id, "webhook")
    return WebhookReceipt(status="accepted")
