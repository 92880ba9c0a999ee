"""``POST /webhook/gitlab``: GitLab's webhooks for every onboarded project."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from merge_assist.ingest import listener
from merge_assist.ingest.schemas import WebhookReceipt
from merge_assist.kit.body_limit import read_request_body
from merge_assist.kit.web import Resources

router = APIRouter(tags=["ingest"])


@router.post(
    "/webhook/gitlab",
    status_code=202,
    response_model=WebhookReceipt,
    responses={
        200: {"description": "A delivery stored before (a retry): nothing else happened."},
        401: {"description": "Unknown project, or a wrong or missing X-Gitlab-Token."},
        413: {"description": "The body is larger than webhook_max_body_bytes."},
    },
)
async def gitlab_webhook(request: Request, response: Response, res: Resources) -> WebhookReceipt:
    """Store a GitLab webhook delivery once and wake the project's owner."""
    limit = res.settings.webhook_max_body_bytes
    body = await read_request_body(
        request, limit, f"The webhook body is larger than {limit} bytes."
    )
    receipt = await listener.receive(res, request.headers, body)
    if receipt.duplicate:
        response.status_code = 200
    return receipt
