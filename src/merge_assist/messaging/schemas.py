"""API shapes of messaging (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from merge_assist.messaging import rules
from merge_assist.messaging.service import MessagePage, MessageView

UsernameOrAll = Annotated[str, StringConstraints(min_length=1, max_length=rules.MAX_USERNAME)]


class MergeRequestRefIn(BaseModel):
    """A merge request by GitLab project id and MR number (iid)."""

    model_config = ConfigDict(extra="forbid")

    project_id: Annotated[int, Field(ge=1, le=rules.MAX_PROJECT_ID)]
    iid: Annotated[int, Field(ge=1, le=rules.MAX_IID)]


class MessageCreate(BaseModel):
    """A message to send: ``to`` is ``"all"``, a username, or a list of usernames."""

    model_config = ConfigDict(extra="forbid")

    to: UsernameOrAll | Annotated[list[UsernameOrAll], Field(min_length=1, max_length=100)]
    # Lengths are checked by the service (``rules``), whose refusals name the field: the
    # generic validation message cannot name a field called "body".
    subject: str = Field(description=f"One line, 1 to {rules.MAX_SUBJECT} characters.")
    body: str = Field(description=f"1 to {rules.MAX_BODY} characters.")
    related_file: Annotated[str, StringConstraints(max_length=rules.MAX_FILE_REF)] | None = None
    related_mr: (
        Annotated[str, StringConstraints(max_length=rules.MAX_MR_REF)] | MergeRequestRefIn | None
    ) = Field(default=None, description="'group/project!12', '42!12' or {project_id, iid}.")

    def mr_ref(self) -> str | tuple[int, int] | None:
        """The related merge request in the form the service takes."""
        if isinstance(self.related_mr, MergeRequestRefIn):
            return (self.related_mr.project_id, self.related_mr.iid)
        return self.related_mr


class SenderOut(BaseModel):
    """Who wrote a message (``kind`` system: the product itself)."""

    kind: Literal["user", "system"]
    id: int | None
    username: str | None
    display_name: str


class MessageOut(BaseModel):
    """A message as the caller sees it; ``read`` is None for messages the caller only sent."""

    id: int
    subject: str
    body: str
    sender: SenderOut
    to: Literal["all"] | list[str]
    is_broadcast: bool
    related_file: str | None
    related_mr: str | None
    created_at: datetime
    read: bool | None
    read_at: datetime | None
    sent_by_me: bool

    @classmethod
    def of(cls, view: MessageView) -> MessageOut:
        """The response shape of a service view."""
        message = view.message
        return cls(
            id=message.id,
            subject=message.subject,
            body=message.body,
            sender=SenderOut(
                kind="system" if message.sender_kind == "system" else "user",
                id=message.sender_id,
                username=view.sender_username,
                display_name=view.sender_display_name,
            ),
            to=view.to,
            is_broadcast=message.is_broadcast,
            related_file=message.related_file,
            related_mr=message.related_mr,
            created_at=message.created_at,
            read=(view.read_at is not None) if view.is_recipient else None,
            read_at=view.read_at,
            sent_by_me=view.sent_by_viewer,
        )


class MessagePageOut(BaseModel):
    """A page of messages, newest first, and how many match in all."""

    items: list[MessageOut]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: MessagePage) -> MessagePageOut:
        """The response shape of a service page."""
        return cls(
            items=[MessageOut.of(view) for view in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
        )


class UnreadCountOut(BaseModel):
    """How many received messages are unread."""

    unread_count: int


class ReadOut(BaseModel):
    """The outcome of marking one message read."""

    message_id: int
    read_at: datetime
    unread_count: int


class ReadAllOut(BaseModel):
    """The outcome of marking every message read."""

    marked: int
    unread_count: int
