"""The rules of the inbox (never commits): authenticate a delivery, store it once, sweep it."""

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
from merge_assist.kit.errors import NotAuthenticated, NotFound
from merge_assist.kit.settings import Settings
from merge_assist.projects import service as projects

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-gitlab-token"  # noqa: S105 - a header name, not a secret
REJECTED = "The webhook could not be authenticated."
# Compared against when the project is unknown, so both refusals take the same time.
_NO_SECRET = "-" * 64


@dataclass(frozen=True)
class Stored:
    """What happened to a delivery: the project it belongs to, and whether it is new."""

    project_id: int
    new: bool
    ignored_reason: str | None = None


async def _secret_of(
    session: AsyncSession, settings: Settings, gitlab_project_id: int
) -> tuple[int | None, str]:
    project = await projects.find_by_gitlab_id(session, gitlab_project_id)
    if project is None:
        return None, _NO_SECRET
    try:
        return project.id, await projects.webhook_secret(session, settings, project.id)
    except NotFound:
        return None, _NO_SECRET
    except DecryptionError:
        log.error(
            "a project's webhook secret cannot be decrypted", extra={"project_id": project.id}
        )
        return None, _NO_SECRET


async def authenticate(
    session: AsyncSession, settings: Settings, gitlab_project_id: int, token: str | None
) -> int:
    """The project id if ``token`` is the project's webhook secret; ``NotAuthenticated`` (the
    same answer for an unknown project, a deactivated one, and a wrong or missing token)."""
    project_id, secret = await _secret_of(session, settings, gitlab_project_id)
    matches = hmac.compare_digest((token or "").encode(), secret.encode())
    if project_id is None or not matches or not token:
        raise NotAuthenticated(REJECTED)
    return project_id


async def receive(
    session: AsyncSession,
    settings: Settings,
    delivery: WebhookDelivery,
    token: str | None,
    *,
    now: datetime,
) -> Stored:
    """Authenticate ``delivery`` by its ``token`` (the X-Gitlab-Token), then store it once."""
    project_id = await authenticate(session, settings, delivery.gitlab_project_id, token)
    return await store(session, project_id, delivery, now=now)


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
