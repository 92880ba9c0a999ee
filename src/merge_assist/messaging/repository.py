"""Queries of messaging (no rules here: see ``service``).

Users are read through the ``users`` table for joins and recipient look-ups only; changing
users is the auth feature's business.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from merge_assist.auth.models import User
from merge_assist.messaging.models import Message, MessageRecipient


class MessageBox(enum.StrEnum):
    """Which messages a listing shows: received, sent, or both."""

    inbox = "inbox"
    sent = "sent"
    all = "all"


@dataclass(frozen=True)
class MessageFilter:
    """What a listing is narrowed to, for one user."""

    user_id: int
    box: MessageBox = MessageBox.inbox
    unread_only: bool = False
    related_file: str | None = None
    related_mr: str | None = None


@dataclass(frozen=True)
class MessageRow:
    """A message as one user sees it: their copy (if they received it) and the sender."""

    message: Message
    is_recipient: bool
    read_at: datetime | None
    sender_username: str | None
    sender_display_name: str | None


async def users_named(session: AsyncSession, usernames: Collection[str]) -> list[User]:
    """Users whose (lowercase) username is in ``usernames``."""
    if not usernames:
        return []
    return list(await session.scalars(select(User).where(User.username.in_(list(usernames)))))


async def active_user_ids(session: AsyncSession) -> list[int]:
    """Every active user's id."""
    rows = await session.scalars(select(User.id).where(User.is_active.is_(True)).order_by(User.id))
    return list(rows)


async def active_among(session: AsyncSession, user_ids: Iterable[int]) -> list[int]:
    """The ids of ``user_ids`` that belong to active users."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    statement = select(User.id).where(User.id.in_(wanted), User.is_active.is_(True))
    return list(await session.scalars(statement.order_by(User.id)))


async def active_with_gitlab_ids(
    session: AsyncSession, gitlab_user_ids: Iterable[int]
) -> list[int]:
    """Ids of active users linked to one of ``gitlab_user_ids``."""
    wanted = sorted(set(gitlab_user_ids))
    if not wanted:
        return []
    statement = select(User.id).where(User.gitlab_user_id.in_(wanted), User.is_active.is_(True))
    return list(await session.scalars(statement.order_by(User.id)))


async def add_message(session: AsyncSession, message: Message, user_ids: Sequence[int]) -> Message:
    """Insert ``message`` and one recipient row per user; flushed so the id is known."""
    session.add(message)
    await session.flush()
    if user_ids:
        rows = [{"message_id": message.id, "user_id": user_id} for user_id in user_ids]
        await session.execute(insert(MessageRecipient), rows)
    return message


def _listing(filters: MessageFilter) -> Select[Message, int, datetime | None, str, str]:
    mine = aliased(MessageRecipient)
    sender = aliased(User)
    statement = (
        select(Message, mine.user_id, mine.read_at, sender.username, sender.display_name)
        .outerjoin(
            mine,
            and_(
                mine.message_id == Message.id,
                mine.user_id == filters.user_id,
                mine.deleted_at.is_(None),
            ),
        )
        .outerjoin(sender, sender.id == Message.sender_id)
    )
    received = mine.user_id.is_not(None)
    sent = Message.sender_id == filters.user_id
    if filters.box is MessageBox.inbox:
        statement = statement.where(received)
    elif filters.box is MessageBox.sent:
        statement = statement.where(sent)
    else:
        statement = statement.where(or_(received, sent))
    if filters.unread_only:
        statement = statement.where(received, mine.read_at.is_(None))
    if filters.related_file is not None:
        statement = statement.where(Message.related_file == filters.related_file)
    if filters.related_mr is not None:
        statement = statement.where(Message.related_mr == filters.related_mr)
    return statement


def _row(row: Any) -> MessageRow:
    message, recipient_id, read_at, username, display_name = row
    return MessageRow(message, recipient_id is not None, read_at, username, display_name)


async def list_messages(
    session: AsyncSession, filters: MessageFilter, *, limit: int, offset: int
) -> list[MessageRow]:
    """One page of the messages ``filters`` selects, newest first."""
    statement = (
        _listing(filters)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_row(row) for row in await session.execute(statement)]


async def count_messages(session: AsyncSession, filters: MessageFilter) -> int:
    """How many messages ``filters`` selects."""
    statement = select(func.count()).select_from(_listing(filters).subquery())
    return int((await session.execute(statement)).scalar_one())


async def visible_message(
    session: AsyncSession, user_id: int, message_id: int
) -> MessageRow | None:
    """Message ``message_id`` if ``user_id`` sent it or holds an undeleted copy of it."""
    statement = _listing(MessageFilter(user_id=user_id, box=MessageBox.all)).where(
        Message.id == message_id
    )
    row = (await session.execute(statement)).first()
    return None if row is None else _row(row)


async def recipient_names(
    session: AsyncSession, message_ids: Collection[int]
) -> dict[int, list[str]]:
    """The usernames each message was sent to (deleted copies included), by message id."""
    if not message_ids:
        return {}
    statement = (
        select(MessageRecipient.message_id, User.username)
        .join(User, User.id == MessageRecipient.user_id)
        .where(MessageRecipient.message_id.in_(list(message_ids)))
        .order_by(MessageRecipient.message_id, User.username)
    )
    names: dict[int, list[str]] = {}
    for message_id, username in await session.execute(statement):
        names.setdefault(message_id, []).append(username)
    return names


async def unread_counts(session: AsyncSession, user_ids: Collection[int]) -> dict[int, int]:
    """Unread, undeleted copies per user (users with none are missing from the result)."""
    if not user_ids:
        return {}
    statement = (
        select(MessageRecipient.user_id, func.count())
        .where(
            MessageRecipient.user_id.in_(list(user_ids)),
            MessageRecipient.read_at.is_(None),
            MessageRecipient.deleted_at.is_(None),
        )
        .group_by(MessageRecipient.user_id)
    )
    return {user_id: int(count) for user_id, count in await session.execute(statement)}


async def live_copy(
    session: AsyncSession, user_id: int, message_id: int
) -> MessageRecipient | None:
    """``user_id``'s undeleted copy of ``message_id``."""
    statement = select(MessageRecipient).where(
        MessageRecipient.message_id == message_id,
        MessageRecipient.user_id == user_id,
        MessageRecipient.deleted_at.is_(None),
    )
    return (await session.scalars(statement)).one_or_none()


async def mark_all_read(session: AsyncSession, user_id: int, now: datetime) -> int:
    """Mark every unread, undeleted copy of ``user_id`` read; returns how many."""
    statement = (
        update(MessageRecipient)
        .where(
            MessageRecipient.user_id == user_id,
            MessageRecipient.read_at.is_(None),
            MessageRecipient.deleted_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def holders_of(session: AsyncSession, message_id: int) -> list[int]:
    """Users still holding an undeleted copy of ``message_id``."""
    statement = select(MessageRecipient.user_id).where(
        MessageRecipient.message_id == message_id, MessageRecipient.deleted_at.is_(None)
    )
    return list(await session.scalars(statement))


async def delete_message(session: AsyncSession, message_id: int) -> None:
    """Remove a message and every copy of it."""
    await session.execute(
        delete(MessageRecipient)
        .where(MessageRecipient.message_id == message_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        delete(Message).where(Message.id == message_id).execution_options(synchronize_session=False)
    )
