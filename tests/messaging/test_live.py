"""Live delivery: messages sent through the API arrive on the recipients' sockets only."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.messaging.conftest import People, Send
from tests.messaging.live import authenticate, receive, serve, token_of, updates_socket


async def test_a_message_reaches_its_recipient_and_not_a_third_user(
    app: FastAPI, client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    with serve(app) as base:
        async with updates_socket(base) as bob_socket, updates_socket(base) as carol_socket:
            assert (await authenticate(bob_socket, token_of(bob.headers)))["type"] == "ready"
            assert (await authenticate(carol_socket, token_of(carol.headers)))["type"] == "ready"

            to_bob = (await send(alice, "bob", subject="Fixture plate")).json()
            assert await receive(bob_socket) == {
                "type": "message.new",
                "message_id": to_bob["id"],
                "unread_count": 1,
                "subject": "Fixture plate",
                "sender": "alice",
                "sender_kind": "user",  # the toast says who, whatever the display name reads
                "sender_username": "alice",
            }
            # Carol's first event is her own message: bob's never reached her socket.
            to_carol = (await send(alice, "carol")).json()
            event = await receive(carol_socket)
            assert (event["type"], event["message_id"]) == ("message.new", to_carol["id"])

            read = await client.post(f"/api/messages/{to_bob['id']}/read", headers=bob.headers)
            assert read.status_code == 200
            assert await receive(bob_socket) == {
                "type": "message.read",
                "message_id": to_bob["id"],
                "unread_count": 0,
            }


async def test_a_broadcast_tells_each_user_their_own_unread_count(
    app: FastAPI, client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    assert (await send(alice, "carol")).status_code == 201  # carol has one unread already
    with serve(app) as base:
        async with updates_socket(base) as bob_socket, updates_socket(base) as carol_socket:
            await authenticate(bob_socket, token_of(bob.headers))
            await authenticate(carol_socket, token_of(carol.headers))
            broadcast = (await send(alice, "all", subject="Shop closed")).json()
            bob_event = await receive(bob_socket)
            carol_event = await receive(carol_socket)
            assert (bob_event["message_id"], bob_event["unread_count"]) == (broadcast["id"], 1)
            assert (carol_event["message_id"], carol_event["unread_count"]) == (broadcast["id"], 2)

            deleted = await client.delete(f"/api/messages/{broadcast['id']}", headers=alice.headers)
            assert deleted.status_code == 204
            assert await receive(bob_socket) == {
                "type": "message.deleted",
                "message_id": broadcast["id"],
                "unread_count": 0,
            }
            assert (await receive(carol_socket))["unread_count"] == 1


async def test_a_refused_send_publishes_nothing(
    app: FastAPI, client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob = people["alice"], people["bob"]
    with serve(app) as base:
        async with updates_socket(base) as bob_socket:
            await authenticate(bob_socket, token_of(bob.headers))
            # Names bob, then fails on an unknown user: nothing is stored, nothing is announced.
            assert (await send(alice, ["bob", "ghost"])).status_code == 404
            assert (await send(alice, "bob", subject="x" * 201)).status_code == 422
            delivered = (await send(alice, "bob", subject="After the refusals")).json()
            event = await receive(bob_socket)
            assert (event["message_id"], event["unread_count"]) == (delivered["id"], 1)
