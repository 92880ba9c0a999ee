"""Vault changes reach open dashboards after the commit, and refusals send nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.live.hub import Connection
from tests.vault.conftest import FILES, People, Upload


def _events(connection: Connection) -> list[dict[str, Any]]:
    found = []
    while not connection.queue.empty():
        text = connection.queue.get_nowait()
        assert text is not None
        found.append(json.loads(text))
    return found


async def test_check_out_and_check_in_are_announced(
    app: FastAPI, client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice, bob = people["alice"], people["bob"]
    watcher = hub_of(app.state.resources).connect(bob.id)
    created = await upload(alice, "a.nc", b"G0\n")
    file_id = created["id"]
    checkout = await client.post(
        f"{FILES}/{file_id}/checkout", headers=alice.headers, json={"reason": "Edit"}
    )
    assert checkout.status_code == 200
    refused = await client.post(
        f"{FILES}/{file_id}/checkout", headers=bob.headers, json={"reason": "Mine"}
    )
    assert refused.status_code == 409
    checkin = await client.post(
        f"{FILES}/{file_id}/checkin",
        headers=alice.headers,
        files={"file": ("a.nc", b"G1\n")},
        data={"base_version": created["current_version"]},
    )
    assert checkin.status_code == 200
    events = _events(watcher)
    assert [(e["type"], e["action"], e["file_id"]) for e in events] == [
        ("vault.file", "upload", file_id),
        ("vault.file", "checkout", file_id),
        ("vault.file", "checkin", file_id),
    ]
    assert events[-1]["version"] == checkin.json()["version"]["id"]
