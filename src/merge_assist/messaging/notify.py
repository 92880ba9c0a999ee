"""Live events of messaging, queued on the session and sent after it commits.

Every event goes to one user only and carries that user's unread count as of the transaction
that caused it, so a badge is right without a reload. Events name ids, never bodies.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.kit.live.events import LiveEvent
from merge_assist.kit.live.publish import publish_after_commit
from merge_assist.messaging import repository
from merge_assist.messaging.models import Message, SenderKind

MESSAGE_NEW = "message.new"
MESSAGE_READ = "message.read"
MESSAGE_DELETED = "message.deleted"


async def _publish_per_user(
    session: AsyncSession, kind: str, user_ids: Collection[int], **data: object
) -> None:
    counts = await repository.unread_counts(session, user_ids)
    for user_id in sorted(user_ids):
        event = LiveEvent.for_users(kind, [user_id], unread_count=counts.get(user_id, 0), **data)
        publish_after_commit(session, event)


async def message_received(
    session: AsyncSession,
    message: Message,
    user_ids: Collection[int],
    sender_name: str,
    sender_username: str | None = None,
) -> None:
    """Tell each recipient a message arrived (with its subject and sender, for a toast): the
    sender's kind says whether the system sent it, whatever a user's display name reads."""
    await _publish_per_user(
        session,
        MESSAGE_NEW,
        user_ids,
        message_id=message.id,
        subject=message.subject,
        sender=sender_name,
        sender_kind="system" if message.sender_kind == SenderKind.system else "user",
        sender_username=sender_username,
    )


async def unread_changed(
    session: AsyncSession, kind: str, user_ids: Collection[int], message_id: int | None
) -> None:
    """Tell users whose copies were read or deleted (their other tabs update the badge)."""
    await _publish_per_user(session, kind, user_ids, message_id=message_id)
