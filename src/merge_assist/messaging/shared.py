"""Messages of a standalone instance: shared with the other users through the vault's GitLab
project (``StandaloneMessages``), in the shapes of ``/api/messages``.

A message's id in the API is its number in the shared document (1, 2, ... never reused), so
every instance shows the same id for the same message. Read state is per recipient. Messages
name users by their GitLab username (every instance knows them by it); a list of several
recipients and related merge requests are refused with a sentence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.auth import gitlab_identities
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Unprocessable
from merge_assist.kit.settings import Settings
from merge_assist.messaging.repository import MessageBox
from merge_assist.messaging.schemas import (
    MessageCreate,
    MessageOut,
    MessagePageOut,
    ReadAllOut,
    ReadOut,
    SenderOut,
)
from merge_assist.messaging.standalone_store import (
    BROADCAST,
    StandaloneMessage,
    StandaloneMessages,
    member_check,
)
from merge_assist.standalone.binding import binding_of, user_client
from merge_assist.standalone.shared_json import SharedJsonDocument

MESSAGES_DOCUMENT = "messages"


@dataclass
class SharedMailbox:
    """One user's messages in the shared document."""

    messages: StandaloneMessages

    @property
    def me(self) -> str:
        return self.messages.me

    async def page(
        self,
        box: MessageBox,
        *,
        unread_only: bool,
        related_file: str | None,
        related_mr: str | None,
        limit: int,
        offset: int,
    ) -> MessagePageOut:
        """The caller's messages, newest first (none relate to a merge request here)."""
        found: list[StandaloneMessage] = []
        if related_mr is None:
            if box is not MessageBox.sent or unread_only:
                found += await self.messages.inbox(unread_only=unread_only)
            if box is not MessageBox.inbox and not unread_only:
                seen = {m.id for m in found}
                found += [m for m in await self.messages.sent() if m.id not in seen]
        if related_file is not None:
            found = [m for m in found if m.related_file == related_file]
        found.sort(key=lambda m: (m.created_at, m.number), reverse=True)
        return MessagePageOut(
            items=[self.out(m) for m in found[offset : offset + limit]],
            total=len(found),
            limit=limit,
            offset=offset,
        )

    async def send(self, body: MessageCreate) -> MessageOut:
        """Send to one user (GitLab username) or ``all``."""
        to = body.to if isinstance(body.to, str) else None
        if isinstance(body.to, list) and len(body.to) == 1:
            to = body.to[0]
        if to is None:
            raise Unprocessable(
                "In standalone mode a message goes to one user or to 'all'; send one each."
            )
        if body.related_mr is not None:
            raise Unprocessable("In standalone mode a message cannot name a merge request.")
        sent = await self.messages.send(to, body.subject, body.body, related_file=body.related_file)
        return self.out(sent)

    async def get(self, number: int) -> MessageOut:
        return self.out(await self.messages.get(number))

    async def unread_count(self) -> int:
        return await self.messages.unread_count()

    async def mark_read(self, number: int) -> ReadOut:
        read = await self.messages.mark_read(number)
        return ReadOut(
            message_id=number,
            read_at=read.read_at or utcnow(),
            unread_count=await self.unread_count(),
        )

    async def mark_all_read(self) -> ReadAllOut:
        marked = await self.messages.mark_all_read()
        return ReadAllOut(marked=marked, unread_count=await self.unread_count())

    async def delete(self, number: int) -> None:
        await self.messages.delete(number)

    def out(self, message: StandaloneMessage) -> MessageOut:
        """A shared message as ``/api/messages`` shows it to this user."""
        broadcast = message.recipient == BROADCAST
        received = message.recipient == self.me or (broadcast and message.sender != self.me)
        read_at: datetime | None = message.read_at if received else None
        return MessageOut(
            id=message.number,
            subject=message.subject,
            body=message.body,
            sender=SenderOut(
                kind="user",
                id=None,
                username=message.sender,
                display_name=message.sender_name or message.sender,
            ),
            to=BROADCAST if broadcast else [message.recipient],
            is_broadcast=broadcast,
            related_file=message.related_file,
            related_mr=None,
            created_at=message.created_at,
            read=message.read if received else None,
            read_at=read_at,
            sent_by_me=message.sender == self.me,
        )


@asynccontextmanager
async def shared_mailbox(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, user_id: int
) -> AsyncIterator[SharedMailbox]:
    """The signed-in user's shared mailbox (409 unbound, 403 without a GitLab token)."""
    binding = binding_of(settings)
    async with sessions() as session:
        token = await gitlab_identities.gitlab_api_token_for(session, settings, user_id)
    async with user_client(settings, token) as client:
        me = await client.current_user()
        document = SharedJsonDocument.in_state_folder(client, binding.project, MESSAGES_DOCUMENT)
        yield SharedMailbox(
            StandaloneMessages(
                document,
                me.username,
                recipient_exists=member_check(client, binding.project),
                my_name=me.name,
            )
        )
