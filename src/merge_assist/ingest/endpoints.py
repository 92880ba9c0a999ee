"""``POST /webhook/gitlab``: GitLab's webhooks for every onboarded project.

The token is checked before the body is read (``service.senders_of_token``): a request without
a valid ``X-Gitlab-Token`` is refused (401) without parsing anything, and an address sending
too many of those is answered 429 for a while (``service.WEBHOOK_REJECTIONS``).

GitLab waits for the answer and retries on errors, so the listener does no GitLab calls and
no engine work: it stores the delivery in the inbox (the request's one transaction, committed
before the answer) and wakes the project's owner after the commit. A crash between the two
leaves an unprocessed inbox row, which the watcher turns into a wake-up later.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from merge_assist.ingest import service
from merge_assist.ingest.schemas import WebhookReceipt
from merge_assist.ingest.webhooks import parse_delivery
from merge_assist.kit.body_limit import BodyLimit, read_request_body
from merge_assist.kit.bus.wake import wake_after_commit
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import NotAuthenticated
from merge_assist.kit.forwarded import connection_address
from merge_assist.kit.metrics import WEBHOOK_DELIVERIES
from merge_assist.kit.web import Resources, Session

router = APIRouter(tags=["ingest"])
WEBHOOK_PREFIX = "/webhook/"


def webhook_body_sentence(max_bytes: int) -> str:
    """Why a webhook body is refused (413)."""
    return (
        f"The webhook body is larger than {max_bytes} bytes (MERGE_ASSIST_WEBHOOK_MAX_BODY_BYTES)."
    )


def webhook_body_limit(max_bytes: int) -> BodyLimit:
    """The webhook's own body limit (GitLab's payloads may pass the global one)."""
    return BodyLimit(WEBHOOK_PREFIX, max_bytes, webhook_body_sentence(max_bytes))


@router.post(
    "/webhook/gitlab",
    status_code=202,
    response_model=WebhookReceipt,
    responses={
        200: {"description": "A delivery stored before (a retry): nothing else happened."},
        400: {"description": "The body is not a GitLab webhook payload."},
        401: {"description": "Unknown project, or a wrong or missing X-Gitlab-Token."},
        413: {"description": "The body is larger than webhook_max_body_bytes."},
        429: {"description": "Too many unauthenticated deliveries from this address."},
    },
)
async def gitlab_webhook(
    request: Request, response: Response, session: Session, res: Resources
) -> WebhookReceipt:
    """Store a GitLab webhook delivery once and wake the project's owner."""
    rejections = res.service(service.WEBHOOK_REJECTIONS)
    address = connection_address(request, res.settings.trusted_proxy_networks)
    wait = rejections.retry_after(address)
    if wait is not None:
        WEBHOOK_DELIVERIES.labels("throttled").inc()
        raise service.too_many_rejections(wait)
    try:
        senders = await service.senders_of_token(
            session, res.settings, request.headers.get(service.TOKEN_HEADER)
        )
        limit = res.settings.webhook_max_body_bytes
        body = await read_request_body(request, limit, webhook_body_sentence(limit))
        delivery = parse_delivery(request.headers, body)
        project_id = service.sender_of(delivery, senders)
    except NotAuthenticated:
        rejections.record(address)
        WEBHOOK_DELIVERIES.labels("rejected").inc()
        raise
    stored = await service.store(session, project_id, delivery, now=utcnow())
    if stored.ignored_reason is not None:
        WEBHOOK_DELIVERIES.labels("ignored").inc()
        return WebhookReceipt(status="ignored", reason=stored.ignored_reason)
    if not stored.new:
        WEBHOOK_DELIVERIES.labels("duplicate").inc()
        response.status_code = 200
        return WebhookReceipt(status="duplicate", duplicate=True)
    wake_after_commit(session, res, stored.project_id, "webhook")
    WEBHOOK_DELIVERIES.labels("accepted").inc()
    return WebhookReceipt(status="accepted")
