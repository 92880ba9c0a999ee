"""Two standalone instances (own data folders, own users and tokens) share one sandbox
project: GitLab decides who holds a file, whichever machine asks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from tests.vault.standalone.instances import (
    FILES,
    Instance,
    open_main_scenario,
    running_instance,
)

CHECKOUTS = 50


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(open_main_scenario()) as running:
        yield running


@pytest.fixture
async def alice(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Instance]:
    async with running_instance(sandbox, tmp_path / "alice-machine", "alice") as instance:
        yield instance


@pytest.fixture
async def bob(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Instance]:
    async with running_instance(sandbox, tmp_path / "bob-machine", "bob") as instance:
        yield instance


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _gear_id(instance: Instance) -> int:
    """Sync the instance with the project folder; the id of ``gear.mcam`` there."""
    _ok(await instance.call("POST", "/api/vault/default/sync"))
    page = _ok(await instance.call("GET", FILES, params={"search": "gear"}))
    [gear] = [item for item in page["items"] if item["path"] == "gear.mcam"]
    return int(gear["id"])


async def _check_out(instance: Instance, file_id: int, reason: str) -> httpx.Response:
    return await instance.call("POST", f"{FILES}/{file_id}/checkout", json={"reason": reason})


async def test_fifty_check_outs_from_two_machines_let_exactly_one_win(
    alice: Instance, bob: Instance
) -> None:
    ids = {"alice": await _gear_id(alice), "bob": await _gear_id(bob)}
    machines = [alice, bob] * (CHECKOUTS // 2)
    answers = await asyncio.gather(
        *(_check_out(m, ids[m.name], f"Race {n} from {m.name}") for n, m in enumerate(machines))
    )
    won = [(m, a) for m, a in zip(machines, answers, strict=True) if a.status_code == 200]
    lost = [a for a in answers if a.status_code == 409]
    assert len(won) == 1, [a.text for a in answers if a.status_code not in (200, 409)]
    assert len(lost) == CHECKOUTS - 1
    winner, answer = won[0]
    names = {"alice": "Alice Archer", "bob": "Bob Baker"}
    assert answer.json()["checked_out_by_me"] is True
    for refusal in lost:
        body = refusal.json()
        assert body["code"] == "lock_held"
        assert f"checked out by {names[winner.name]}" in body["detail"]
        assert body["details"]["holder"]["display_name"] == names[winner.name]

    loser = bob if winner is alice else alice
    seen = _ok(await loser.call("GET", FILES, params={"status": "checked_out"}))
    [held] = seen["items"]
    assert held["lock"]["holder"]["display_name"] == names[winner.name]
    assert held["lock"]["reason"].startswith("Race ")
    assert held["checked_out_by_me"] is False
    assert _ok(await loser.call("GET", FILES, params={"status": "mine"}))["total"] == 0
    assert _ok(await winner.call("GET", FILES, params={"status": "mine"}))["total"] == 1

    # The loser cannot undo or check in the winner's check-out.
    undo = await loser.call("POST", f"{FILES}/{ids[loser.name]}/undo-checkout")
    assert undo.status_code == 409
    assert names[winner.name] in undo.json()["detail"]

    # The winner checks a new version in (released); then the other machine can check out.
    gear = _ok(await winner.call("GET", f"{FILES}/{ids[winner.name]}"))
    checked_in = await winner.call(
        "POST",
        f"{FILES}/{ids[winner.name]}/checkin",
        files={"file": ("gear.mcam", b"G-CODE\nG1 X5\n")},
        data={"base_version": gear["current_version"], "message": "Feed rates"},
    )
    result = _ok(checked_in)
    assert result["changed"] is True
    assert result["released"] is True
    assert result["file"]["status"] == "available"

    again = _ok(await _check_out(loser, ids[loser.name], "My turn"))
    assert again["checked_out_by_me"] is True
    theirs = _ok(await winner.call("GET", f"{FILES}/{ids[winner.name]}"))
    assert theirs["status"] == "checked_out"
    assert theirs["lock"]["reason"] == "My turn"
    _ok(await loser.call("POST", f"{FILES}/{ids[loser.name]}/undo-checkout"))
    assert _ok(await winner.call("GET", f"{FILES}/{ids[winner.name]}"))["status"] == "available"


@pytest.fixture
async def carol(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[Instance]:
    async with running_instance(sandbox, tmp_path / "carol-machine", "carol") as instance:
        yield instance


async def _unread(instance: Instance) -> int:
    return int(_ok(await instance.call("GET", "/api/messages/unread-count"))["unread_count"])


async def test_messages_sent_on_one_machine_arrive_on_the_others(
    alice: Instance, bob: Instance, carol: Instance
) -> None:
    sent = _ok(
        await alice.call(
            "POST",
            "/api/messages",
            json={"to": "bob", "subject": "Gear", "body": "Feeds done", "related_file": "gear"},
        ),
        201,
    )
    assert sent["sent_by_me"] is True
    assert sent["read"] is None  # alice only sent it
    assert await _unread(bob) == 1
    assert await _unread(carol) == 0

    [got] = _ok(await bob.call("GET", "/api/messages", params={"unread": "true"}))["items"]
    assert got["id"] == sent["id"]
    assert got["sender"]["username"] == "alice"
    assert got["sender"]["display_name"] == "Alice Archer"
    assert got["to"] == ["bob"]
    assert got["read"] is False
    read = _ok(await bob.call("POST", f"/api/messages/{got['id']}/read"))
    assert read["unread_count"] == 0
    assert _ok(await bob.call("GET", f"/api/messages/{got['id']}"))["read"] is True

    # A broadcast: read state is per recipient.
    everyone = {"to": "all", "subject": "Fixtures", "body": "New vice jaws in bay 2"}
    broadcast = _ok(await bob.call("POST", "/api/messages", json=everyone), 201)
    assert broadcast["is_broadcast"] is True
    assert await _unread(alice) == 1
    assert await _unread(carol) == 1
    assert await _unread(bob) == 0  # not to himself
    marked = _ok(await alice.call("POST", "/api/messages/read-all"))
    assert marked == {"marked": 1, "unread_count": 0}
    assert await _unread(carol) == 1

    # Carol hides her copy; the sender deletes his for everyone.
    assert (await carol.call("DELETE", f"/api/messages/{broadcast['id']}")).status_code == 204
    assert await _unread(carol) == 0
    assert (await bob.call("DELETE", f"/api/messages/{broadcast['id']}")).status_code == 204
    gone = await alice.call("GET", f"/api/messages/{broadcast['id']}")
    assert gone.status_code == 404
    sent_box = _ok(await bob.call("GET", "/api/messages", params={"box": "all"}))
    assert [m["id"] for m in sent_box["items"]] == [sent["id"]]

    several = {"to": ["bob", "carol"], "subject": "Hi", "body": "Both of you"}
    refused = await alice.call("POST", "/api/messages", json=several)
    assert refused.status_code == 422
    assert "one user or to 'all'" in refused.json()["detail"]


async def test_kept_check_outs_and_forcing_follow_gitlab_roles(
    alice: Instance, bob: Instance, carol: Instance
) -> None:
    ids = {m.name: await _gear_id(m) for m in (alice, bob, carol)}
    _ok(await _check_out(alice, ids["alice"], "Long job"))
    gear = _ok(await alice.call("GET", f"{FILES}/{ids['alice']}"))
    kept = _ok(
        await alice.call(
            "POST",
            f"{FILES}/{ids['alice']}/checkin",
            files={"file": ("gear.mcam", b"G-CODE\nG1 X7\n")},
            data={"base_version": gear["current_version"], "keep_locked": "true"},
        )
    )
    assert kept["released"] is False
    assert kept["file"]["lock"]["base_version"] == kept["version"]["id"]
    assert kept["file"]["checked_out_by_me"] is True

    # Bob is a Developer on GitLab: he cannot force Alice's lock open, even as admin here.
    refused = await bob.call(
        "POST", f"{FILES}/{ids['bob']}/force-unlock", json={"reason": "Need it"}
    )
    assert refused.status_code == 403
    assert "Maintainer" in refused.json()["detail"]
    # Carol is a Maintainer: she can.
    forced = await carol.call(
        "POST", f"{FILES}/{ids['carol']}/force-unlock", json={"reason": "Alice is away"}
    )
    assert _ok(forced)["status"] == "available"
    assert _ok(await alice.call("GET", f"{FILES}/{ids['alice']}"))["status"] == "available"
