"""The rules of the inbox (never commits): authenticate a delivery, store it once, sweep it.

A delivery is authenticated by its token before its body is read (``senders_of_token``): the
``X-Gitlab-Token`` is compared, in constant time, with the webhook secret of every active
project, so a request without a valid token never has its body parsed. The body must then
name a project the token belongs to (``sender_of``); otherwise the same 401. Callers count the
refusals per client address (``WEBHOOK_REJECTIONS``) and answer 429 past the limit.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.ingest import repository
from merge_assist.ingest.webhooks import WebhookDelivery
from merge_assist.kit.crypto import DecryptionError
from merge_assist.kit.errors import NotAuthenticated, TooManyRequests
from merge_assist.kit.rate_limit import FailureWindow
from merge_assist.kit.settings import Settings
from merge_assist.kit.web import ServiceKey
from merge_assist.projects import service as projects
from merge_assist.projects.models import Project

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-gitlab-token"  # noqa: S105 - a header name, not a secret
REJECTED = "The webhook could not be authenticated."
# Compared against when the project is unknown, so both refusals take the same time.
_NO_SECRET = "-" * 64


# Unauthenticated deliveries per client address (provided by ``server/app.py``).
WEBHOOK_REJECTIONS: ServiceKey[FailureWindow] = ServiceKey("webhook rejections")


def rejection_window(settings: Settings) -> FailureWindow:
    """The counter of unauthenticated deliveries, sized by the settings."""
    return FailureWindow(
        settings.webhook_max_rejections_per_address, settings.webhook_rejection_window_seconds
    )


def too_many_rejections(retry_after: int) -> TooManyRequests:
    """The 429 for an address that sent too many unauthenticated deliveries."""
    return TooManyRequests(
        "Too many webhook deliveries from this address could not be authenticated; try again "
        f"in {retry_after} seconds.",
        retry_after=retry_after,
    )


async def senders_of_token(
    session: AsyncSession, settings: Settings, token: str | None
) -> dict[int, int]:
    """The active projects whose webhook secret is ``token``, as GitLab project id -> project
    id; ``NotAuthenticated`` when there are none. Every project's secret is compared (in
    constant time each), whether or not an earlier one matched."""
    given = (token or "").encode()
    senders: dict[int, int] = {}
    for project in await projects.all_projects(session, include_inactive=False):
        secret = _opened_secret(settings, project)
        matches = hmac.compare_digest(given, (secret or _NO_SECRET).encode())
        if matches and secret is not None and token:
            senders[project.gitlab_project_id] = project.id
    if not senders:
        raise NotAuthenticated(REJECTED)
    return senders


# Projects whose secret was reported undecryptable: once per process, not at every delivery
# (every delivery, authenticated or not, opens every project's secret).
_REPORTED_UNREADABLE: set[int] = set()


def _opened_secret(settings: Settings, project: Project) -> str | None:
    try:
        return projects.open_webhook_secret(settings, project)
    except DecryptionError:
        if project.id not in _REPORTED_UNREADABLE:
            _REPORTED_UNREADABLE.add(project.id)
            log.error(
                "a project's webhook secret cannot be decrypted; its deliveries are refused",
                extra={"project_id": project.id},
            )
        return None


def sender_of(delivery: WebhookDelivery, senders: dict[int, int]) -> int:
    """The project the delivery is about, if its token belongs to it; ``NotAuthenticated``
    (the same answer as a wrong token) otherwise."""
    project_id = senders.get(delivery.gitlab_project_id)
    if project_id is None:
        raise NotAuthenticated(REJECTED)
    return project_id


@dataclass(frozen=True)
class Stored:
    """What happened to a delivery: the project it belongs to, and whether it is new."""

    project_id: int
    new: bool
    ignored_reason: str | None = None


async def store(
    session: AsyncSession, project_id: int, delivery: WebhookDelivery, *, now: datetime
) -> Stored:
    """Store the delivery once; events the queue ignores are stored already processed."""
    config = await projects.get_config(session, project_id)
    if not config.webhook_enabled:
        return Stored(project_id, new=False, ignored_reason="webhooks are disabled for the project")
    inserted = await repository.insert_once(
        session,
        project_id=project_id,
        idempotency_key=delivery.idempotency_key,
        event_kind=delivery.kind,
        object_iid=delivery.object_iid,
        received_at=now,
        processed_at=None if delivery.wakes_the_queue else now,
    )
    if inserted is not None and not delivery.wakes_the_queue:
        return Stored(
            project_id, new=True, ignored_reason=f"{delivery.kind} events do not concern the queue"
        )
    return Stored(project_id, new=inserted is not None)


async def mark_processed(
    session: AsyncSession, project_id: int, *, received_until: datetime, now: datetime
) -> int:
    """A reconcile of the project started: its events received until then are handled."""
    return await repository.mark_processed(
        session, project_id, received_until=received_until, now=now
    )


async def backlog(session: AsyncSession) -> dict[int, int]:
    """Unprocessed events per project id."""
    return await repository.backlog_by_project(session)


async def oldest_unprocessed(
    session: AsyncSession, project_ids: Collection[int] | None = None
) -> datetime | None:
    """When the oldest unprocessed event arrived (None: no backlog), of ``project_ids`` only
    if given."""
    return await repository.oldest_unprocessed(session, project_ids)


async def projects_with_stale_events(
    session: AsyncSession, *, now: datetime, grace_seconds: float
) -> list[int]:
    """Projects holding an event nobody reconciled for ``grace_seconds`` (its wake-up was lost)."""
    return await repository.projects_waiting_since(session, now - timedelta(seconds=grace_seconds))


async def prune(session: AsyncSession, *, now: datetime, retention_days: int) -> int:
    """Delete events older than the retention; how many."""
    return await repository.delete_received_before(session, now - timedelta(days=retention_days))


async def received_since(session: AsyncSession, project_id: int, since: datetime) -> bool:
    """Whether our listener stored a delivery for the project at or after ``since`` (the
    onboarding check's test delivery: ``projects.onboarding_check``)."""
    return await repository.received_since(session, project_id, since)
