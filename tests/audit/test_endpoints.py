"""The audit endpoints on the real app, with real accounts."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.audit.conftest import RecordEntries
from tests.conftest import MakeAccount

ADMIN: dict[str, str] = {}


@pytest.fixture
async def audit_client(app: FastAPI, make_account: MakeAccount) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real app; ``ADMIN`` holds a signed-in administrator's header."""
    ADMIN.clear()
    ADMIN.update(await make_account("auditor", "admin"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_non_admins_are_refused(
    audit_client: httpx.AsyncClient, make_account: MakeAccount
) -> None:
    viewer = await make_account("watcher", "viewer")
    for path in ("/api/audit", "/api/audit/export"):
        assert (await audit_client.get(path)).status_code == 401
        response = await audit_client.get(path, headers=viewer)
        assert response.status_code == 403
        assert "admin" in response.json()["detail"]


async def test_list_is_newest_first_and_paginated(
    audit_client: httpx.AsyncClient, record_entries: RecordEntries
) -> None:
    entries = await record_entries(5)
    response = await audit_client.get("/api/audit?limit=2&offset=1", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)
    assert [item["id"] for item in body["items"]] == [entries[3].id, entries[2].id]
    assert body["items"][0]["entry_hash"] == entries[3].entry_hash
    assert body["items"][0]["details"] == {"path": "art/model-3.fbx", "index": 3}


async def test_list_filters(audit_client: httpx.AsyncClient, record_entries: RecordEntries) -> None:
    await record_entries(2)
    (failed,) = await record_entries(
        1, actor_id=2, actor_name="bob", action="auth.login", target_type="user", success=False
    )
    for query in (
        "actor=bob",
        "actor_id=2",
        "action=auth.login",
        "action=auth.*",
        "success=false",
        "target_type=user",
    ):
        items = (await audit_client.get(f"/api/audit?{query}", headers=ADMIN)).json()["items"]
        assert [item["id"] for item in items] == [failed.id], query
    since = failed.occurred_at.isoformat().replace("+00:00", "Z")
    items = (await audit_client.get(f"/api/audit?since={since}", headers=ADMIN)).json()["items"]
    assert [item["id"] for item in items] == [failed.id]


@pytest.mark.parametrize(
    ("query", "status", "fragment"),
    [
        ("limit=501", 422, "limit"),
        ("offset=-1", 422, "offset"),
        ("success=perhaps", 422, "success"),
        ("since=yesterday", 422, "since"),
        ("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", 400, "earlier"),
    ],
)
async def test_bad_filters_get_a_sentence(
    audit_client: httpx.AsyncClient, query: str, status: int, fragment: str
) -> None:
    response = await audit_client.get(f"/api/audit?{query}", headers=ADMIN)
    assert response.status_code == status
    assert fragment in response.json()["detail"]


async def test_export_jsonl_streams_every_entry_in_chain_order(
    audit_client: httpx.AsyncClient, record_entries: RecordEntries
) -> None:
    entries = await record_entries(3)
    response = await audit_client.get("/api/audit/export?format=jsonl", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in records] == [e.id for e in entries]
    assert [r["entry_hash"] for r in records] == [e.entry_hash for e in entries]
    assert records[1]["prev_hash"] == records[0]["entry_hash"]


async def test_export_csv_with_filter(
    audit_client: httpx.AsyncClient, record_entries: RecordEntries
) -> None:
    await record_entries(2)
    await record_entries(1, action="vault.upload", target_id="=HYPERLINK(1)")
    response = await audit_client.get(
        "/api/audit/export?format=csv&action=vault.upload", headers=ADMIN
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 1
    assert rows[0]["action"] == "vault.upload"
    assert rows[0]["target_id"] == "'=HYPERLINK(1)"  # never a live formula in a spreadsheet
    assert json.loads(rows[0]["details"]) == {"path": "art/model-0.fbx", "index": 0}


async def test_export_refuses_unknown_format(audit_client: httpx.AsyncClient) -> None:
    response = await audit_client.get("/api/audit/export?format=xml", headers=ADMIN)
    assert response.status_code == 422
    assert "format" in response.json()["detail"]
