"""The messaging service on a real database: system messages, audit entries, live events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from merge_assist.audit import service as audit
from merge_assist.audit.repository import AuditQuery
from merge_assist.auth.models import User
from merge_assist.auth.principal import Principal
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.errors import NotFound, Unprocessable
from merge_assist.kit.live.hub import UpdatesHub
from merge_assist.kit.live.publish import attach
from merge_assist.messaging import service
from merge_assist.messaging.models import MessageRecipient
from tests.messaging.conftest import Deactivate, MakePerson, People, Person

Sessions = async_sessionmaker[AsyncSession]


def _principal(person: Person) -> Principal:
    return Principal(person.id, person.username, person.username, frozenset({"member"}))


async def test_system_messages_reach_active_users_by_id(
    sessions: Sessions, people: People, deactivate: Deactivate
) -> None:
    bob, carol = people["bob"], people["carol"]
    await deactivate(carol)
    async with unit_of_work(sessions) as session:
        message = await service.send_system(
            session,
            to_user_ids=[bob.id, carol.id, 9999],
            subject="Your check-out was released",
            body="An administrator force-unlocked cnc/part-7.mcam.",
            related_file="cnc/part-7.mcam",
        )
    assert message is not None
    async with sessions() as session:
        page = await service.inbox(session, bob.id)
        assert [view.message.id for view in page.items] == [message.id]
        view = page.items[0]
        assert (view.message.sender_kind, view.message.sender_id) == ("system", None)
        assert view.sender_display_name == service.SYSTEM_DISPLAY_NAME
        assert view.to == ["bob"]
        assert (await service.inbox(session, carol.id)).total == 0
        entries = await audit.search(session, AuditQuery(action="message.send"))
    (entry,) = entries.items
    assert (entry.actor_id, entry.actor_name, entry.target_id) == (None, "system", str(message.id))


async def test_a_system_message_to_nobody_is_not_sent(sessions: Sessions, people: People) -> None:
    async with unit_of_work(sessions) as session:
        sent = await service.send_system(session, to_user_ids=[9999], subject="s", body="b")
        assert sent is None
        none_linked = await service.send_system_to_gitlab_users(
            session, gitlab_user_ids=[123], subject="MR rejected", body="b"
        )
        assert none_linked is None
        assert (await audit.search(session, AuditQuery(action="message.send"))).total == 0


async def test_system_messages_to_gitlab_users(sessions: Sessions, people: People) -> None:
    bob = people["bob"]
    async with unit_of_work(sessions) as session:
        await session.execute(update(User).where(User.id == bob.id).values(gitlab_user_id=501))
    async with unit_of_work(sessions) as session:
        message = await service.send_system_to_gitlab_users(
            session,
            gitlab_user_ids=[501, 777],
            subject="Merge request rejected",
            body="The pipeline failed on the batch branch.",
            related_mr=(42, 7),
        )
    assert message is not None
    assert message.related_mr == "42!7"
    async with sessions() as session:
        assert (await service.inbox(session, bob.id, related_mr="42!7")).total == 1
        assert await service.unread_count(session, people["carol"].id) == 0


async def test_system_broadcast_goes_to_every_active_user(
    sessions: Sessions, people: People
) -> None:
    async with unit_of_work(sessions) as session:
        message = await service.send_system(session, to_all=True, subject="Upgrade", body="b")
    assert message is not None
    assert message.is_broadcast
    async with sessions() as session:
        for person in people.values():
            assert await service.unread_count(session, person.id) == 1


async def test_a_broadcast_materialises_one_copy_per_active_user_at_send_time(
    sessions: Sessions, people: People, deactivate: Deactivate, make_person: MakePerson
) -> None:
    await deactivate(people["victor"])
    async with unit_of_work(sessions) as session:
        message = await service.send(
            session, sender=_principal(people["alice"]), to="all", subject="s", body="b"
        )
    await make_person("nina", "member")
    async with sessions() as session:
        holders = await session.scalars(
            select(MessageRecipient.user_id).where(MessageRecipient.message_id == message.id)
        )
        assert sorted(holders) == sorted([people["bob"].id, people["carol"].id])


async def test_sends_and_deletes_are_audited_without_the_body(
    sessions: Sessions, people: People
) -> None:
    alice, bob = _principal(people["alice"]), _principal(people["bob"])
    async with unit_of_work(sessions) as session:
        first = await service.send(
            session, sender=alice, to=["bob", "carol"], subject="s", body="SECRET BODY"
        )
        second = await service.send(session, sender=alice, to="bob", subject="s", body="b")
    async with unit_of_work(sessions) as session:
        assert await service.delete(session, bob, first.id) == "own_copy"
        assert await service.delete(session, alice, second.id) == "everyone"
    async with sessions() as session:
        sends = (await audit.search(session, AuditQuery(action="message.send"))).items
        deletes = (await audit.search(session, AuditQuery(action="message.delete"))).items
        assert (await audit.verify(session)).ok
    assert [(e.actor_name, e.target_type, e.target_id) for e in sends] == [
        ("alice", "message", str(second.id)),
        ("alice", "message", str(first.id)),
    ]
    assert sends[1].details["recipients"] == 2
    assert sends[1].details["to"] == sorted([people["bob"].id, people["carol"].id])
    assert "SECRET" not in json.dumps([e.details for e in sends])
    assert [(e.actor_name, e.target_id, e.details["scope"]) for e in deletes] == [
        ("alice", str(second.id), "everyone"),
        ("bob", str(first.id), "own_copy"),
    ]


async def test_live_events_wait_for_the_commit(sessions: Sessions, people: People) -> None:
    bob = people["bob"]
    hub = UpdatesHub()
    connection = hub.connect(bob.id)
    async with unit_of_work(sessions) as session:
        attach(session, hub)
        message = await service.send(
            session, sender=_principal(people["alice"]), to="bob", subject="s", body="b"
        )
        assert connection.queue.empty()
    event = json.loads(connection.queue.get_nowait() or "")
    assert (event["type"], event["message_id"], event["unread_count"]) == (
        "message.new",
        message.id,
        1,
    )

    async def refused_read() -> None:
        async with unit_of_work(sessions) as session:
            attach(session, hub)
            await service.mark_read(session, bob.id, message.id)
            raise RuntimeError("something later in the request failed")

    with pytest.raises(RuntimeError):
        await refused_read()
    assert connection.queue.empty()
    async with sessions() as session:
        assert await service.unread_count(session, bob.id) == 1


async def test_service_refusals(sessions: Sessions, people: People) -> None:
    alice = _principal(people["alice"])
    async with sessions() as session:
        with pytest.raises(Unprocessable, match="limit"):
            await service.list_messages(session, alice.id, limit=0)
        with pytest.raises(NotFound, match="no message 5"):
            await service.get(session, alice.id, 5)
        with pytest.raises(Unprocessable, match="nobody else"):
            await _send_to_all_alone(session)


async def _send_to_all_alone(session: AsyncSession) -> None:
    # Everyone but the sender is deactivated: a broadcast would reach nobody.
    (sender,) = await session.scalars(select(User).where(User.username == "alice"))
    await session.execute(update(User).where(User.id != sender.id).values(is_active=False))
    principal = Principal(sender.id, "alice", "alice", frozenset({"member"}))
    await service.send(session, sender=principal, to="all", subject="s", body="b")
