"""Messages between standalone users, kept in a shared JSON document in the vault's project.

Same rules as the server's messaging: user-to-user or broadcast (``all``), subject 1-200,
body 1-5000, an optional related file, inbox newest first, read state **per recipient** (a
broadcast read by one user stays unread for the others), delete by the sender (for everyone)
or by a recipient (their own copy). Each change is one compare-and-swap commit, so concurrent
senders on different machines never lose each other's messages.

Trust: the document is a file anyone with push rights can edit; the commit that changed it
names its real author in the repository history. Locks, by contrast, are arbitrated by GitLab.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from merge_assist.gitlab.client import GitLabClient
from merge_assist.gitlab.core import ProjectRef
from merge_assist.kit.clock import utcnow
from merge_assist.kit.errors import Forbidden, NotFound, Unprocessable
from merge_assist.standalone.shared_json import SharedJsonDocument

BROADCAST = "all"
MAX_SUBJECT = 200
MAX_BODY = 5000
MAX_KEPT = 5000  # oldest messages beyond this are dropped so the file stays small

RecipientCheck = Callable[[str], Awaitable[bool]]
MessageRef = str | int  # the message's id, or its number (what ``/api/messages`` shows)


@dataclass(frozen=True)
class StandaloneMessage:
    """One message as a given user sees it (``read`` is that user's own read state)."""

    id: str
    sender: str
    recipient: str  # a username, or "all"
    subject: str
    body: str
    created_at: datetime
    related_file: str | None = None
    read: bool = False
    read_by: frozenset[str] = field(default_factory=frozenset)
    number: int = 0  # 1, 2, ... in the order sent; never reused (``next_number``)
    sender_name: str = ""
    read_at: datetime | None = None  # when this user read it


def _text(value: str, name: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise Unprocessable(f"The {name} is empty; write at least one character.")
    if len(text) > limit:
        raise Unprocessable(f"The {name} is too long: at most {limit} characters.")
    return text


def member_check(gitlab: GitLabClient, project: ProjectRef) -> RecipientCheck:
    """A recipient check: the username is a member of ``project`` on GitLab."""

    async def is_member(username: str) -> bool:
        return await gitlab.find_project_member(project, username) is not None

    return is_member


class StandaloneMessages:
    """The messages of one user (``me``) in a shared document."""

    def __init__(
        self,
        document: SharedJsonDocument,
        me: str,
        *,
        recipient_exists: RecipientCheck,
        my_name: str | None = None,
    ) -> None:
        self.document = document
        self.me = me
        self.my_name = my_name or me
        self.recipient_exists = recipient_exists

    async def send(
        self, to: str, subject: str, body: str, *, related_file: str | None = None
    ) -> StandaloneMessage:
        """Send to a username or to ``all``; the recipient must be a project member."""
        recipient = to.strip()
        clean_subject = _text(subject, "subject", MAX_SUBJECT)
        clean_body = _text(body, "message", MAX_BODY)
        if recipient != BROADCAST and not await self.recipient_exists(recipient):
            raise Unprocessable(f"There is no user {recipient!r} in this vault's project.")
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "sender": self.me,
            "sender_name": self.my_name,
            "recipient": recipient,
            "subject": clean_subject,
            "body": clean_body,
            "related_file": related_file or None,
            "created_at": utcnow().isoformat(),
            "read_by": [],
            "hidden_for": [],
        }

        def append(doc: dict[str, Any]) -> None:
            messages = _messages(doc)
            record["number"] = _next_number(doc)
            messages.append(record)
            del messages[:-MAX_KEPT]

        await self.document.update(append, message=f"Message from {self.me}: {clean_subject}")
        return self._view(record)

    async def inbox(self, *, unread_only: bool = False) -> list[StandaloneMessage]:
        """Messages to me or to everyone (not my own broadcasts), newest first."""
        found = [self._view(m) for m in await self._all() if self._addressed_to_me(m)]
        if unread_only:
            found = [m for m in found if not m.read]
        return sorted(found, key=lambda m: m.created_at, reverse=True)

    async def sent(self) -> list[StandaloneMessage]:
        """Messages I sent, newest first."""
        found = [self._view(m) for m in await self._all() if m.get("sender") == self.me]
        return sorted(found, key=lambda m: m.created_at, reverse=True)

    async def about_file(self, path: str) -> list[StandaloneMessage]:
        """Messages I can see that relate to ``path``, newest first."""
        visible = [m for m in await self._all() if self._visible(m)]
        found = [self._view(m) for m in visible if m.get("related_file") == path]
        return sorted(found, key=lambda m: m.created_at, reverse=True)

    async def unread_count(self) -> int:
        """How many messages in my inbox I have not read."""
        return len(await self.inbox(unread_only=True))

    async def get(self, message_id: MessageRef) -> StandaloneMessage:
        """One message I sent or received."""
        return self._view(self._find((await self.document.read()).data, message_id))

    async def mark_read(self, message_id: MessageRef) -> StandaloneMessage:
        """Mark a message read for me only."""

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            message = self._find(doc, message_id)
            if not self._addressed_to_me(message):
                raise Forbidden("Only a recipient can mark a message read.")
            self._read(message)
            return message

        return self._view(await self.document.update(change, message="Mark a message read"))

    async def mark_all_read(self) -> int:
        """Mark every message of my inbox read (one commit); how many were unread."""

        def change(doc: dict[str, Any]) -> int:
            unread = [
                m
                for m in _messages(doc)
                if self._addressed_to_me(m) and self.me not in m.get("read_by", [])
            ]
            for message in unread:
                self._read(message)
            return len(unread)

        if not await self.unread_count():
            return 0
        return await self.document.update(change, message="Mark all messages read")

    async def delete(self, message_id: MessageRef) -> None:
        """The sender deletes a message for everyone; a recipient hides their own copy."""

        def change(doc: dict[str, Any]) -> None:
            message = self._find(doc, message_id)
            if message.get("sender") == self.me:
                doc["messages"] = [m for m in _messages(doc) if m is not message]
            elif self._addressed_to_me(message):
                if self.me not in message["hidden_for"]:
                    message["hidden_for"].append(self.me)
            else:
                raise Forbidden("Only the sender or a recipient can delete a message.")

        await self.document.update(change, message="Delete a message")

    # -- helpers ------------------------------------------------------------------------------

    async def _all(self) -> list[dict[str, Any]]:
        return _messages((await self.document.read()).data)

    def _addressed_to_me(self, message: dict[str, Any]) -> bool:
        if self.me in message.get("hidden_for", []):
            return False
        recipient = message.get("recipient")
        return recipient == self.me or (recipient == BROADCAST and message.get("sender") != self.me)

    def _visible(self, message: dict[str, Any]) -> bool:
        return self._addressed_to_me(message) or message.get("sender") == self.me

    def _read(self, message: dict[str, Any]) -> None:
        read_by = message.setdefault("read_by", [])
        if self.me not in read_by:
            read_by.append(self.me)
            read_at = message.get("read_at")
            if not isinstance(read_at, dict):
                read_at = message["read_at"] = {}
            read_at[self.me] = utcnow().isoformat()

    def _find(self, doc: dict[str, Any], message_id: MessageRef) -> dict[str, Any]:
        key = "number" if isinstance(message_id, int) else "id"
        for message in _messages(doc):
            if message.get(key) == message_id and self._visible(message):
                message.setdefault("read_by", [])
                message.setdefault("hidden_for", [])
                return message
        raise NotFound("That message does not exist (or was deleted).")

    def _view(self, message: dict[str, Any]) -> StandaloneMessage:
        read_by = frozenset(str(u) for u in message.get("read_by", []))
        read_at = message.get("read_at")
        my_read_at = read_at.get(self.me) if isinstance(read_at, dict) else None
        return StandaloneMessage(
            id=str(message["id"]),
            sender=str(message.get("sender", "")),
            recipient=str(message.get("recipient", "")),
            subject=str(message.get("subject", "")),
            body=str(message.get("body", "")),
            created_at=datetime.fromisoformat(str(message["created_at"])),
            related_file=message.get("related_file"),
            read=self.me in read_by,
            read_by=read_by,
            number=int(message.get("number") or 0),
            sender_name=str(message.get("sender_name") or message.get("sender", "")),
            read_at=datetime.fromisoformat(str(my_read_at)) if my_read_at else None,
        )


def _next_number(doc: dict[str, Any]) -> int:
    """The number of a new message (above every number given, even to deleted messages)."""
    given = [int(m["number"]) for m in _messages(doc) if isinstance(m.get("number"), int)]
    stored = doc.get("next_number")
    number = max([stored if isinstance(stored, int) else 1, *(n + 1 for n in given)])
    doc["next_number"] = number + 1
    return number


def _messages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``messages`` list of the shared document (entries that are not objects skipped)."""
    found = doc.get("messages")
    if not isinstance(found, list):
        found = []
        doc["messages"] = found
    found[:] = [m for m in found if isinstance(m, dict) and "id" in m and "created_at" in m]
    return found
