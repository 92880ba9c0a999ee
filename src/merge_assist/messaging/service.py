"""Messaging rules: send (user, list, ``all``, system), read, list and delete. Never commits.

Decisions:
- Read and delete state is per recipient (see ``models``): a broadcast read or deleted by one
  user stays unread and present for the others.
- A broadcast goes to every user active at send time except its sender; a message naming only
  its sender is refused (the sent box already keeps what you send), and the sender's own name
  in a list with others is skipped.
- Deleting: a recipient deletes their own copy; the sender deletes the message for everyone.
  Anyone else gets the same 404 as for a message that does not exist, so ids leak nothing.
- Every send and delete is audited (``message.send`` / ``message.delete`` on ``message:<id>``)
  with recipients and references, never the body.
- Live events (``message.new``, ``message.read``, ``message.deleted``) are queued on the
  session and sent after it commits (``kit.live.publish``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from merge_assist.audit import service as audit
from merge_assist.auth.principal import Principal
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import NotFound, Unprocessable
from merge_assist.messaging import notify, repository, rules, views
from merge_assist.messaging.models import Message, SenderKind
from merge_assist.messaging.repository import MessageBox, MessageFilter
from merge_assist.messaging.views import SYSTEM_DISPLAY_NAME, MessagePage, MessageView

SYSTEM_NAME = "system"
MAX_PAGE = 200

__all__ = [
    "SYSTEM_DISPLAY_NAME",
    "MessageBox",
    "MessagePage",
    "MessageView",
    "delete",
    "get",
    "inbox",
    "list_messages",
    "mark_all_read",
    "mark_read",
    "send",
    "send_system",
    "send_system_to_gitlab_users",
    "sent",
    "unread_count",
]


@dataclass(frozen=True)
class _Content:
    subject: str
    body: str
    related_file: str | None
    related_mr: str | None


def _content(
    subject: str,
    body: str,
    related_file: str | None,
    related_mr: str | tuple[int | str, int] | None,
) -> _Content:
    return _Content(
        rules.clean_subject(subject),
        rules.clean_body(body),
        rules.clean_file_ref(related_file),
        rules.mr_ref(related_mr),
    )


async def send(
    session: AsyncSession,
    *,
    sender: Principal | None,
    to: str | Sequence[str],
    subject: str,
    body: str,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
) -> Message:
    """Send a message to ``"all"``, a username or a list of usernames.

    Unknown recipients are a 404 naming them, deactivated ones a 422. ``sender=None`` sends
    as the system. Returns the flushed message (its id is known).
    """
    recipients = rules.parse_recipients(to)
    content = _content(subject, body, related_file, related_mr)
    sender_id = sender.id if sender is not None else None
    if recipients.broadcast:
        user_ids = [uid for uid in await repository.active_user_ids(session) if uid != sender_id]
        if not user_ids:
            raise Unprocessable("There is nobody else to send to yet.")
    else:
        user_ids = await _named_recipients(session, recipients.usernames, sender_id)
    return await _store(session, sender, content, user_ids, broadcast=recipients.broadcast)


async def _named_recipients(
    session: AsyncSession, usernames: Sequence[str], sender_id: int | None
) -> list[int]:
    users = {user.username: user for user in await repository.users_named(session, usernames)}
    unknown = [name for name in usernames if name not in users]
    if len(unknown) == 1:
        raise NotFound(f"There is no user called {unknown[0]!r}.")
    if unknown:
        raise NotFound("There are no users called " + ", ".join(repr(n) for n in unknown) + ".")
    inactive = [name for name in usernames if not users[name].is_active]
    if inactive:
        names = ", ".join(repr(name) for name in inactive)
        raise Unprocessable(f"Deactivated users cannot receive messages: {names}.")
    user_ids = [users[name].id for name in usernames if users[name].id != sender_id]
    if not user_ids:
        raise Unprocessable(
            "You cannot send a message only to yourself; your sent box keeps what you send."
        )
    return user_ids


async def send_system(
    session: AsyncSession,
    *,
    to_user_ids: Iterable[int] = (),
    to_all: bool = False,
    subject: str,
    body: str,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
) -> Message | None:
    """A message from the product (vault, merge queue) to users by id, or to all.

    Unknown or deactivated ids are skipped (a system notice to someone who left is not an
    error); with nobody left, nothing is sent and None is returned.
    """
    content = _content(subject, body, related_file, related_mr)
    if to_all:
        user_ids = await repository.active_user_ids(session)
    else:
        user_ids = await repository.active_among(session, to_user_ids)
    if not user_ids:
        return None
    return await _store(session, None, content, user_ids, broadcast=to_all)


async def send_system_to_gitlab_users(
    session: AsyncSession,
    *,
    gitlab_user_ids: Iterable[int],
    subject: str,
    body: str,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
) -> Message | None:
    """``send_system`` to the active users linked to these GitLab user ids (others skipped)."""
    user_ids = await repository.active_with_gitlab_ids(session, gitlab_user_ids)
    return await send_system(
        session,
        to_user_ids=user_ids,
        subject=subject,
        body=body,
        related_file=related_file,
        related_mr=related_mr,
    )


async def _store(
    session: AsyncSession,
    sender: Principal | None,
    content: _Content,
    user_ids: Sequence[int],
    *,
    broadcast: bool,
) -> Message:
    message = Message(
        sender_id=sender.id if sender is not None else None,
        sender_kind=SenderKind.user if sender is not None else SenderKind.system,
        subject=content.subject,
        body=content.body,
        related_file=content.related_file,
        related_mr=content.related_mr,
        is_broadcast=broadcast,
        created_at=utcnow(),
    )
    await repository.add_message(session, message, user_ids)
    details: dict[str, Any] = {
        "to": rules.BROADCAST if broadcast else sorted(user_ids),
        "recipients": len(user_ids),
        "sender_kind": message.sender_kind,
        "related_file": content.related_file,
        "related_mr": content.related_mr,
    }
    await _audit(session, sender, "message.send", message.id, details)
    sender_name = sender.display_name if sender is not None else SYSTEM_DISPLAY_NAME
    await notify.message_received(
        session, message, user_ids, sender_name, sender.username if sender is not None else None
    )
    return message


async def _audit(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    message_id: int,
    details: dict[str, Any],
) -> None:
    await audit.record(
        session,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.username if actor is not None else SYSTEM_NAME,
        action=action,
        success=True,
        target_type="message",
        target_id=message_id,
        details=details,
    )


async def list_messages(
    session: AsyncSession,
    user_id: int,
    *,
    box: MessageBox = MessageBox.inbox,
    unread_only: bool = False,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MessagePage:
    """A page of ``user_id``'s messages in ``box``, newest first, optionally narrowed."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise Unprocessable(f"'limit' must be 1 to {MAX_PAGE} and 'offset' not negative.")
    filters = MessageFilter(
        user_id=user_id,
        box=box,
        unread_only=unread_only,
        related_file=rules.clean_file_ref(related_file),
        related_mr=rules.mr_ref(related_mr),
    )
    rows = await repository.list_messages(session, filters, limit=limit, offset=offset)
    total = await repository.count_messages(session, filters)
    return MessagePage(await views.build(session, user_id, rows), total, limit, offset)


async def inbox(
    session: AsyncSession,
    user_id: int,
    *,
    unread_only: bool = False,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MessagePage:
    """The messages ``user_id`` received and has not deleted, newest first."""
    return await list_messages(
        session,
        user_id,
        box=MessageBox.inbox,
        unread_only=unread_only,
        related_file=related_file,
        related_mr=related_mr,
        limit=limit,
        offset=offset,
    )


async def sent(
    session: AsyncSession,
    user_id: int,
    *,
    related_file: str | None = None,
    related_mr: str | tuple[int | str, int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MessagePage:
    """The messages ``user_id`` sent (and did not delete for everyone), newest first."""
    return await list_messages(
        session,
        user_id,
        box=MessageBox.sent,
        related_file=related_file,
        related_mr=related_mr,
        limit=limit,
        offset=offset,
    )


async def get(session: AsyncSession, user_id: int, message_id: int) -> MessageView:
    """Message ``message_id`` if ``user_id`` sent it or holds a copy; 404 otherwise."""
    row = await repository.visible_message(session, user_id, message_id)
    if row is None:
        raise NotFound(f"There is no message {message_id} you can see.")
    return (await views.build(session, user_id, [row]))[0]


async def unread_count(session: AsyncSession, user_id: int) -> int:
    """How many of ``user_id``'s copies are unread (deleted ones do not count)."""
    return (await repository.unread_counts(session, [user_id])).get(user_id, 0)


async def mark_read(session: AsyncSession, user_id: int, message_id: int) -> datetime:
    """Mark ``user_id``'s copy read (idempotent: the first read time is kept); returns it."""
    copy = await repository.live_copy(session, user_id, message_id)
    if copy is None:
        raise NotFound(f"Message {message_id} is not in your inbox.")
    if copy.read_at is None:
        copy.read_at = utcnow()
        await session.flush()
        await notify.unread_changed(session, notify.MESSAGE_READ, [user_id], message_id)
    return copy.read_at


async def mark_all_read(session: AsyncSession, user_id: int) -> int:
    """Mark every unread copy of ``user_id`` read; returns how many changed."""
    changed = await repository.mark_all_read(session, user_id, utcnow())
    if changed:
        await notify.unread_changed(session, notify.MESSAGE_READ, [user_id], None)
    return changed


async def delete(
    session: AsyncSession, user: Principal, message_id: int
) -> Literal["everyone", "own_copy"]:
    """The sender deletes the message for everyone; a recipient deletes their own copy."""
    row = await repository.visible_message(session, user.id, message_id)
    if row is None:
        raise NotFound(f"There is no message {message_id} you can see.")
    if row.message.sender_id == user.id:
        holders = await repository.holders_of(session, message_id)
        await repository.delete_message(session, message_id)
        await _audit(
            session,
            user,
            "message.delete",
            message_id,
            {"scope": "everyone", "copies": len(holders)},
        )
        await notify.unread_changed(session, notify.MESSAGE_DELETED, holders, message_id)
        return "everyone"
    copy = await repository.live_copy(session, user.id, message_id)
    if copy is None:  # pragma: no cover - visible and not the sender means a live copy
        raise NotFound(f"There is no message {message_id} you can see.")
    copy.deleted_at = utcnow()
    await session.flush()
    await _audit(session, user, "message.delete", message_id, {"scope": "own_copy"})
    await notify.unread_changed(session, notify.MESSAGE_DELETED, [user.id], message_id)
    return "own_copy"
