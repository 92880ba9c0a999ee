"""API shapes of the listener."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class WebhookReceipt(BaseModel):
    """The listener's answer to GitLab.

    ``accepted``: stored and the project's owner woken (202); ``duplicate``: this delivery was
    stored before, nothing else happened (200); ``ignored``: the project does not take webhooks,
    or the kind of event does not concern the queue (202).
    """

    status: Literal["accepted", "duplicate", "ignored"]
    duplicate: bool = False
    reason: str | None = None
