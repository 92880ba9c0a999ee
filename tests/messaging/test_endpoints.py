"""The messaging endpoints on the real app and database, as real signed-in users."""

from __future__ import annotations

from typing import Any

import httpx

from tests.messaging.conftest import Deactivate, MakePerson, People, Person, Send


async def _inbox(client: httpx.AsyncClient, person: Person, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/api/messages{query}", headers=person.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _unread(client: httpx.AsyncClient, person: Person) -> int:
    response = await client.get("/api/messages/unread-count", headers=person.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["unread_count"]
    return count


async def test_send_to_one_user(client: httpx.AsyncClient, people: People, send: Send) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    response = await send(alice, "Bob", subject="  Lathe program  ", body="Check the feed rate.")
    assert response.status_code == 201, response.text
    sent = response.json()
    assert sent["subject"] == "Lathe program"
    assert sent["to"] == ["bob"]
    assert sent["sender"] == {
        "kind": "user",
        "id": alice.id,
        "username": "alice",
        "display_name": "alice",
    }
    assert (sent["read"], sent["sent_by_me"], sent["is_broadcast"]) == (None, True, False)

    inbox = await _inbox(client, bob)
    assert inbox["total"] == 1
    (item,) = inbox["items"]
    assert (item["id"], item["body"], item["read"], item["sent_by_me"]) == (
        sent["id"],
        "Check the feed rate.",
        False,
        False,
    )
    assert await _unread(client, bob) == 1
    assert (await _inbox(client, carol))["total"] == 0
    assert (await _inbox(client, alice))["total"] == 0
    assert [m["id"] for m in (await _inbox(client, alice, "?box=sent"))["items"]] == [sent["id"]]


async def test_send_to_a_list(client: httpx.AsyncClient, people: People, send: Send) -> None:
    response = await send(people["alice"], ["carol", "bob", "BOB"])
    assert response.status_code == 201, response.text
    assert response.json()["to"] == ["bob", "carol"]
    for name in ("bob", "carol"):
        assert await _unread(client, people[name]) == 1
    assert await _unread(client, people["victor"]) == 0


async def test_a_broadcast_read_by_one_user_stays_unread_for_the_others(
    client: httpx.AsyncClient, people: People, send: Send, make_person: MakePerson
) -> None:
    alice, bob, carol, victor = (people[n] for n in ("alice", "bob", "carol", "victor"))
    response = await send(alice, "all", subject="Shop closed Friday")
    assert response.status_code == 201, response.text
    message_id = response.json()["id"]
    assert response.json()["to"] == "all"

    for person in (bob, carol, victor):
        assert await _unread(client, person) == 1
    assert await _unread(client, alice) == 0  # the sender is not a recipient of their broadcast

    read = await client.post(f"/api/messages/{message_id}/read", headers=bob.headers)
    assert read.status_code == 200, read.text
    assert read.json()["unread_count"] == 0

    assert await _unread(client, bob) == 0
    assert await _unread(client, carol) == 1
    assert await _unread(client, victor) == 1
    assert (await _inbox(client, bob))["items"][0]["read"] is True
    assert (await _inbox(client, carol))["items"][0]["read"] is False
    assert (await _inbox(client, carol, "?unread=true"))["total"] == 1
    assert (await _inbox(client, bob, "?unread=true"))["total"] == 0

    newcomer = await make_person("nina", "member")
    assert (await _inbox(client, newcomer))["total"] == 0


async def test_mark_read_is_per_user_and_idempotent(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    message_id = (await send(people["alice"], ["bob", "carol"])).json()["id"]
    first = await client.post(f"/api/messages/{message_id}/read", headers=people["bob"].headers)
    again = await client.post(f"/api/messages/{message_id}/read", headers=people["bob"].headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["read_at"] == again.json()["read_at"]
    assert await _unread(client, people["carol"]) == 1


async def test_unread_counts_and_read_all(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob = people["alice"], people["bob"]
    for index in range(3):
        assert (await send(alice, "bob", subject=f"Part {index}")).status_code == 201
    assert (await send(people["carol"], "all")).status_code == 201
    assert await _unread(client, bob) == 4

    response = await client.post("/api/messages/read-all", headers=bob.headers)
    assert response.status_code == 200
    assert response.json() == {"marked": 4, "unread_count": 0}
    assert await _unread(client, bob) == 0
    assert await _unread(client, alice) == 1  # carol's broadcast, still unread for alice
    again = await client.post("/api/messages/read-all", headers=bob.headers)
    assert again.json() == {"marked": 0, "unread_count": 0}


async def test_listing_is_newest_first_and_paginated(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    ids = [(await send(people["alice"], "bob", subject=f"#{i}")).json()["id"] for i in range(5)]
    page = await _inbox(client, people["bob"], "?limit=2&offset=1")
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [item["id"] for item in page["items"]] == [ids[3], ids[2]]
    too_many = await client.get("/api/messages?limit=201", headers=people["bob"].headers)
    assert too_many.status_code == 422


async def test_recipient_deletes_own_copy_only(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    message_id = (await send(alice, ["bob", "carol"])).json()["id"]

    response = await client.delete(f"/api/messages/{message_id}", headers=bob.headers)
    assert response.status_code == 204
    assert (await _inbox(client, bob))["total"] == 0
    assert await _unread(client, bob) == 0
    assert (await client.get(f"/api/messages/{message_id}", headers=bob.headers)).status_code == 404
    again = await client.delete(f"/api/messages/{message_id}", headers=bob.headers)
    assert again.status_code == 404

    assert (await _inbox(client, carol))["total"] == 1
    assert await _unread(client, carol) == 1
    sent = await client.get(f"/api/messages/{message_id}", headers=alice.headers)
    assert sent.status_code == 200
    assert sent.json()["to"] == ["bob", "carol"]


async def test_sender_deletes_for_everyone(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    message_id = (await send(alice, "all")).json()["id"]
    kept_id = (await send(bob, "carol")).json()["id"]

    response = await client.delete(f"/api/messages/{message_id}", headers=alice.headers)
    assert response.status_code == 204
    for person in (alice, bob, carol):
        got = await client.get(f"/api/messages/{message_id}", headers=person.headers)
        assert got.status_code == 404
    assert (await _inbox(client, alice, "?box=sent"))["total"] == 0
    assert [m["id"] for m in (await _inbox(client, carol))["items"]] == [kept_id]
    assert await _unread(client, bob) == 0


async def test_strangers_get_the_same_404_as_for_a_missing_message(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    message_id = (await send(people["alice"], "bob")).json()["id"]
    carol = people["carol"]
    missing = message_id + 1000
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/read")):
        theirs = await client.request(
            method, f"/api/messages/{message_id}{suffix}", headers=carol.headers
        )
        absent = await client.request(
            method, f"/api/messages/{missing}{suffix}", headers=carol.headers
        )
        assert theirs.status_code == absent.status_code == 404
        assert theirs.json()["detail"] == absent.json()["detail"].replace(
            str(missing), str(message_id)
        )
    assert await _unread(client, people["bob"]) == 1
    assert (await _inbox(client, people["bob"]))["items"][0]["read"] is False


async def test_the_sender_cannot_mark_their_own_message_read(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    message_id = (await send(people["alice"], "bob")).json()["id"]
    response = await client.post(
        f"/api/messages/{message_id}/read", headers=people["alice"].headers
    )
    assert response.status_code == 404
    assert "not in your inbox" in response.json()["detail"]


async def test_recipients_must_exist_and_be_active(
    client: httpx.AsyncClient, people: People, send: Send, deactivate: Deactivate
) -> None:
    alice = people["alice"]
    response = await send(alice, "ghost")
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no user called 'ghost'."

    response = await send(alice, ["bob", "ghost", "phantom"])
    assert response.status_code == 404
    assert "'ghost'" in response.json()["detail"]
    assert "'phantom'" in response.json()["detail"]
    assert await _unread(client, people["bob"]) == 0  # nothing was sent to anyone

    await deactivate(people["carol"])
    response = await send(alice, "carol")
    assert response.status_code == 422
    assert "'carol'" in response.json()["detail"]

    assert (await send(alice, "all")).status_code == 201
    assert (await _inbox(client, people["bob"]))["total"] == 1


async def test_viewers_and_anonymous_cannot_send(people: People, send: Send) -> None:
    response = await send(people["victor"], "bob")
    assert response.status_code == 403
    assert "member" in response.json()["detail"]
    anonymous = Person(0, "nobody", {})
    assert (await send(anonymous, "bob")).status_code == 401


async def test_viewers_read_and_manage_their_inbox(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    victor = people["victor"]
    message_id = (await send(people["alice"], "victor")).json()["id"]
    assert await _unread(client, victor) == 1
    read = await client.post(f"/api/messages/{message_id}/read", headers=victor.headers)
    assert read.status_code == 200
    deleted = await client.delete(f"/api/messages/{message_id}", headers=victor.headers)
    assert deleted.status_code == 204


async def test_bad_messages_are_refused_with_a_sentence(people: People, send: Send) -> None:
    alice = people["alice"]
    cases = [
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "   "}, "The subject must not be empty."),
        ({"subject": "two\nlines"}, "single line"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": " \n "}, "The message body must not be empty."),
        ({"related_mr": "not a ref"}, "group/project!12"),
        ({"related_file": "x" * 1025}, "related_file"),
    ]
    for fields, expected in cases:
        response = await send(alice, "bob", **fields)
        assert response.status_code == 422, (fields, response.text)
        assert expected in response.json()["detail"], (fields, response.json())

    longest = await send(alice, "bob", subject="s" * 200, body="b" * 5000)
    assert longest.status_code == 201, longest.text
    for to, expected in (
        (["all", "bob"], "'all' already includes everyone"),
        ("alice", "only to yourself"),
        ([], "to"),
    ):
        response = await send(alice, to)
        assert response.status_code == 422, (to, response.text)
        assert expected in response.json()["detail"]


async def test_naming_yourself_among_others_sends_to_the_others(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    response = await send(people["alice"], ["alice", "bob"])
    assert response.status_code == 201
    assert response.json()["to"] == ["bob"]
    assert await _unread(client, people["alice"]) == 0


async def test_bad_ids_are_422(client: httpx.AsyncClient, people: People) -> None:
    for path in ("/api/messages/0", "/api/messages/99999999999", "/api/messages/abc"):
        response = await client.get(path, headers=people["bob"].headers)
        assert response.status_code == 422, path


async def test_related_file_and_merge_request_filters(
    client: httpx.AsyncClient, people: People, send: Send
) -> None:
    alice, bob = people["alice"], people["bob"]
    about_file = (await send(alice, "bob", related_file="cnc/part-7.mcam")).json()
    about_mr = (
        await send(alice, "bob", related_mr={"project_id": 42, "iid": 7}, related_file=None)
    ).json()
    by_path = (await send(alice, "bob", related_mr="tools/fixtures!12")).json()
    assert (await send(alice, "bob")).status_code == 201
    assert about_mr["related_mr"] == "42!7"
    assert by_path["related_mr"] == "tools/fixtures!12"

    page = await _inbox(client, bob, "?related_file=cnc/part-7.mcam")
    assert [m["id"] for m in page["items"]] == [about_file["id"]]
    assert page["items"][0]["related_file"] == "cnc/part-7.mcam"
    page = await _inbox(client, bob, "?related_mr=42!7")
    assert [m["id"] for m in page["items"]] == [about_mr["id"]]
    page = await _inbox(client, alice, "?box=sent&related_file=cnc/part-7.mcam")
    assert [m["id"] for m in page["items"]] == [about_file["id"]]
    page = await _inbox(client, alice, "?box=all&related_file=cnc/part-7.mcam")
    assert page["total"] == 1
    assert (await _inbox(client, people["carol"], "?related_file=cnc/part-7.mcam"))["total"] == 0
    bad = await client.get("/api/messages?related_mr=nope", headers=bob.headers)
    assert bad.status_code == 422
