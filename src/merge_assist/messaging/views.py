"""How a message looks to one user: sender's name, recipients, their read state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.auth.reserved_names import SYSTEM_DISPLAY_NAME
from merge_assist.messaging import repository, rules
from merge_assist.messaging.models import Message, SenderKind
from merge_assist.messaging.repository import MessageRow

GONE_SENDER = "a deleted user"


@dataclass(frozen=True)
class MessageView:
    """A message as one user sees it."""

    message: Message
    sender_username: str | None
    sender_display_name: str
    to: list[str] | Literal["all"]
    is_recipient: bool
    read_at: datetime | None
    sent_by_viewer: bool


@dataclass(frozen=True)
class MessagePage:
    """One page of a listing, newest first, with the number of matches."""

    items: list[MessageView]
    total: int
    limit: int
    offset: int


async def build(session: AsyncSession, user_id: int, rows: list[MessageRow]) -> list[MessageView]:
    """The views of ``rows`` for ``user_id`` (recipient names loaded in one query)."""
    named = [row.message.id for row in rows if not row.message.is_broadcast]
    recipients = await repository.recipient_names(session, named)
    return [_view(row, user_id, recipients.get(row.message.id, [])) for row in rows]


def _view(row: MessageRow, user_id: int, recipients: list[str]) -> MessageView:
    message = row.message
    if message.sender_kind == SenderKind.system:
        display_name = SYSTEM_DISPLAY_NAME
    else:
        display_name = row.sender_display_name or GONE_SENDER
    return MessageView(
        message=message,
        sender_username=row.sender_username,
        sender_display_name=display_name,
        to=rules.BROADCAST if message.is_broadcast else recipients,
        is_recipient=row.is_recipient,
        read_at=row.read_at,
        sent_by_viewer=message.sender_id is not None and message.sender_id == user_id,
    )
