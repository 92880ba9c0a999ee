"""HTTP wiring of messaging (``/api/messages``).

Any signed-in user reads their own messages; sending needs the member role or above (viewers
only read). Endpoints that change messages use ``LiveSession``: their live events go out once
the request's transaction has committed. In standalone mode the same endpoints work on the
messages shared through GitLab (``messaging.shared``), with the same shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from merge_assist.auth.dependencies import CurrentUser, Principal, require_roles
from merge_assist.kit.live.publish import LiveSession
from merge_assist.kit.web import Resources, Session
from merge_assist.messaging import rules, service
from merge_assist.messaging.repository import MessageBox
from merge_assist.messaging.schemas import (
    MessageCreate,
    MessageOut,
    MessagePageOut,
    ReadAllOut,
    ReadOut,
    UnreadCountOut,
)
from merge_assist.messaging.shared import SharedMailbox, shared_mailbox

router = APIRouter(prefix="/api/messages", tags=["messages"])

Sender = Annotated[Principal, Depends(require_roles("member", "priority_manager", "project_owner"))]
MessageId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The message's id.")]


async def _shared(principal: CurrentUser, res: Resources) -> AsyncIterator[SharedMailbox | None]:
    """Standalone mode: the caller's messages shared through GitLab; None on a server."""
    if not res.settings.standalone:
        yield None
        return
    async with shared_mailbox(res.sessions, res.settings, principal.id) as mailbox:
        yield mailbox


Shared = Annotated[SharedMailbox | None, Depends(_shared)]


@dataclass(frozen=True)
class MessageListQuery:
    """Which of the caller's messages ``GET /api/messages`` lists, and which page."""

    box: MessageBox
    unread_only: bool
    related_file: str | None
    related_mr: str | None
    limit: int
    offset: int


def message_list_query(
    box: Annotated[MessageBox, Query(description="inbox (received), sent, or all.")] = (
        MessageBox.inbox
    ),
    unread: Annotated[bool, Query(description="Only unread received messages.")] = False,
    related_file: Annotated[str | None, Query(max_length=rules.MAX_FILE_REF)] = None,
    related_mr: Annotated[
        str | None, Query(max_length=rules.MAX_MR_REF, description="'group/project!12' or '42!12'.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MessageListQuery:
    """The listing's filters and page from the query string."""
    return MessageListQuery(box, unread, related_file, related_mr, limit, offset)


ListQuery = Annotated[MessageListQuery, Depends(message_list_query)]


@router.get("")
async def list_messages(
    principal: CurrentUser, session: Session, shared: Shared, query: ListQuery
) -> MessagePageOut:
    """The caller's messages, newest first."""
    if shared is not None:
        return await shared.page(
            query.box,
            unread_only=query.unread_only,
            related_file=query.related_file,
            related_mr=query.related_mr,
            limit=query.limit,
            offset=query.offset,
        )
    page = await service.list_messages(
        session,
        principal.id,
        box=query.box,
        unread_only=query.unread_only,
        related_file=query.related_file,
        related_mr=query.related_mr,
        limit=query.limit,
        offset=query.offset,
    )
    return MessagePageOut.of(page)


@router.get("/unread-count")
async def unread_count(principal: CurrentUser, session: Session, shared: Shared) -> UnreadCountOut:
    """How many of the caller's received messages are unread."""
    if shared is not None:
        return UnreadCountOut(unread_count=await shared.unread_count())
    return UnreadCountOut(unread_count=await service.unread_count(session, principal.id))


@router.post("", status_code=201)
async def send_message(
    body: MessageCreate, sender: Sender, session: LiveSession, shared: Shared
) -> MessageOut:
    """Send a message to a user, a list of users, or ``all`` (members and above)."""
    if shared is not None:
        return await shared.send(body)
    message = await service.send(
        session,
        sender=sender,
        to=body.to,
        subject=body.subject,
        body=body.body,
        related_file=body.related_file,
        related_mr=body.mr_ref(),
    )
    return MessageOut.of(await service.get(session, sender.id, message.id))


@router.post("/read-all")
async def mark_all_read(principal: CurrentUser, session: LiveSession, shared: Shared) -> ReadAllOut:
    """Mark every received message read."""
    if shared is not None:
        return await shared.mark_all_read()
    marked = await service.mark_all_read(session, principal.id)
    return ReadAllOut(marked=marked, unread_count=await service.unread_count(session, principal.id))


@router.get("/{message_id}")
async def get_message(
    message_id: MessageId, principal: CurrentUser, session: Session, shared: Shared
) -> MessageOut:
    """One message the caller received or sent."""
    if shared is not None:
        return await shared.get(message_id)
    return MessageOut.of(await service.get(session, principal.id, message_id))


@router.post("/{message_id}/read")
async def mark_read(
    message_id: MessageId, principal: CurrentUser, session: LiveSession, shared: Shared
) -> ReadOut:
    """Mark the caller's copy read (only for the caller: others' copies stay unread)."""
    if shared is not None:
        return await shared.mark_read(message_id)
    read_at = await service.mark_read(session, principal.id, message_id)
    return ReadOut(
        message_id=message_id,
        read_at=read_at,
        unread_count=await service.unread_count(session, principal.id),
    )


@router.delete("/{message_id}", status_code=204)
async def delete_message(
    message_id: MessageId, principal: CurrentUser, session: LiveSession, shared: Shared
) -> Response:
    """Delete the caller's copy, or (for its sender) the message for everyone."""
    if shared is not None:
        await shared.delete(message_id)
        return Response(status_code=204)
    await service.delete(session, principal, message_id)
    return Response(status_code=204)
