"""Messages between two standalone users through the sandbox, read state per recipient."""

from __future__ import annotations

import asyncio

import pytest

from merge_assist.gitlab import GitLabClient
from merge_assist.kit.errors import Forbidden, NotFound, Unprocessable
from merge_assist.messaging.standalone_store import (
    BROADCAST,
    StandaloneMessages,
    member_check,
)
from merge_assist.standalone.shared_json import SharedJsonDocument
from tests.standalone.shared_project import PROJECT, unique


def inbox_of(client: GitLabClient, username: str, name: str) -> StandaloneMessages:
    document = SharedJsonDocument.in_state_folder(client, PROJECT, name)
    return StandaloneMessages(document, username, recipient_exists=member_check(client, PROJECT))


async def test_direct_and_broadcast_messages_with_read_state_per_recipient(
    alice: GitLabClient, bob: GitLabClient, carol: GitLabClient
) -> None:
    name = unique("messages")
    a, b, c = (
        inbox_of(alice, "alice", name),
        inbox_of(bob, "bob", name),
        inbox_of(carol, "carol", name),
    )
    direct = await a.send(
        "bob", "Gear program", "Please check op 3.", related_file="parts/gear.mcam"
    )
    broadcast = await a.send(BROADCAST, "Machine down", "Mill 2 is down until Monday.")
    assert [m.id for m in await b.inbox()] == [broadcast.id, direct.id]  # newest first
    assert [m.id for m in await c.inbox()] == [broadcast.id]
    assert await a.inbox() == []  # one's own broadcast is not in one's inbox
    assert [m.id for m in await a.sent()] == [broadcast.id, direct.id]
    assert (await b.unread_count(), await c.unread_count()) == (2, 1)

    read = await b.mark_read(broadcast.id)
    assert read.read
    assert read.read_by == frozenset({"bob"})
    # Bob reading the broadcast leaves it unread for Carol.
    assert (await b.unread_count(), await c.unread_count()) == (1, 1)
    assert [m.id for m in await c.inbox(unread_only=True)] == [broadcast.id]
    assert [m.id for m in await b.about_file("parts/gear.mcam")] == [direct.id]
    with pytest.raises(Forbidden):
        await a.mark_read(direct.id)  # the sender is not a recipient

    await c.delete(broadcast.id)  # Carol hides her copy only
    assert await c.inbox() == []
    assert [m.id for m in await b.inbox()] == [broadcast.id, direct.id]
    with pytest.raises(NotFound):
        await c.mark_read(broadcast.id)
    await a.delete(direct.id)  # the sender deletes for everyone
    assert [m.id for m in await b.inbox()] == [broadcast.id]
    with pytest.raises(NotFound):
        await b.delete(direct.id)


async def test_concurrent_senders_lose_no_message(alice: GitLabClient, bob: GitLabClient) -> None:
    name = unique("messages")
    a, b = inbox_of(alice, "alice", name), inbox_of(bob, "bob", name)
    await asyncio.gather(
        *(a.send("bob", f"from alice {n}", "hi") for n in range(5)),
        *(b.send("alice", f"from bob {n}", "hi") for n in range(5)),
    )
    assert sorted(m.subject for m in await b.inbox()) == [f"from alice {n}" for n in range(5)]
    assert sorted(m.subject for m in await a.inbox()) == [f"from bob {n}" for n in range(5)]
    numbers = sorted(m.number for m in await a.inbox() + await b.inbox())
    assert numbers == list(range(1, 11))  # concurrent senders never share a number


async def test_numbers_are_never_reused_and_find_messages(
    alice: GitLabClient, bob: GitLabClient
) -> None:
    name = unique("messages")
    a, b = inbox_of(alice, "alice", name), inbox_of(bob, "bob", name)
    first = await a.send("bob", "one", "1")
    second = await a.send("bob", "two", "2")
    assert (first.number, second.number) == (1, 2)
    await a.delete(second.number)  # the sender deletes by number
    third = await a.send("bob", "three", "3")
    assert third.number == 3
    assert (await b.get(first.number)).subject == "one"
    assert await b.mark_all_read() == 2
    assert await b.mark_all_read() == 0
    read = await b.get(third.number)
    assert read.read
    assert read.read_at is not None
    assert (await a.get(third.number)).read_at is None  # the sender's own view


async def test_bad_messages_are_refused_with_a_reason(alice: GitLabClient) -> None:
    a = inbox_of(alice, "alice", unique("messages"))
    with pytest.raises(Unprocessable, match="no user 'mallory'"):
        await a.send("mallory", "hello", "anyone?")
    with pytest.raises(Unprocessable, match="subject is empty"):
        await a.send("bob", "  ", "body")
    with pytest.raises(Unprocessable, match="subject is too long"):
        await a.send("bob", "s" * 201, "body")
    with pytest.raises(Unprocessable, match="message is too long"):
        await a.send("bob", "subject", "b" * 5001)
    assert (await a.document.read()).exists is False  # nothing was written
    with pytest.raises(NotFound):
        await a.mark_read("no-such-id")
