"""The vault endpoints on the real app, database and a real git repository, as real users."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from merge_assist.audit.models import AuditEntry
from merge_assist.kit.settings import Settings
from merge_assist.messaging.models import Message, MessageRecipient
from merge_assist.server.app import create_app
from merge_assist.vault import repository as vault_repository
from merge_assist.vault.locks import DatabaseLockStore, LockInfo
from tests.vault.conftest import FILES, People, Person, Upload

GCODE_V1 = b"G21\nG0 X0 Y0\nG1 X10 F100\nM30\n"
GCODE_V2 = b"G21\nG0 X0 Y0\nG1 X20 F120\nM30\n"
MCAM_V1 = b"MCAM\x00\x01\x02binary-part-one"
MCAM_V2 = b"MCAM\x00\x01\x02binary-part-two!"


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _check_out(
    client: httpx.AsyncClient, person: Person, file_id: int, reason: str = "Adjust feed rates"
) -> httpx.Response:
    return await client.post(
        f"{FILES}/{file_id}/checkout", headers=person.headers, json={"reason": reason}
    )


async def _check_in(
    client: httpx.AsyncClient,
    person: Person,
    file_id: int,
    content: bytes,
    base: str,
    **form: str,
) -> httpx.Response:
    return await client.post(
        f"{FILES}/{file_id}/checkin",
        headers=person.headers,
        files={"file": ("upload.bin", content)},
        data={"base_version": base, **form},
    )


async def _audit_actions(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """The actions that succeeded, in order, with who did them."""
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor_name)
            .where(AuditEntry.success.is_(True))
            .order_by(AuditEntry.id)
        )
        return [(row[0], row[1]) for row in rows]


async def test_upload_check_out_check_in_history_download(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice, bob = people["alice"], people["bob"]
    created = await upload(alice, "lathe/shaft.nc", GCODE_V1, message="First program")
    assert (created["path"], created["name"], created["size"]) == (
        "lathe/shaft.nc",
        "shaft.nc",
        len(GCODE_V1),
    )
    assert created["status"] == "available"
    file_id, v1 = created["id"], created["current_version"]

    out = await _json(await _check_out(client, alice, file_id))
    assert out["status"] == "checked_out"
    assert out["checked_out_by_me"] is True
    assert out["lock"]["holder"]["display_name"] == "Alice Archer"
    assert out["lock"]["reason"] == "Adjust feed rates"
    seen_by_bob = await _json(await client.get(f"{FILES}/{file_id}", headers=bob.headers))
    assert seen_by_bob["checked_out_by_me"] is False
    assert seen_by_bob["lock"]["holder"]["username"] == "alice"

    checked_in = await _json(
        await _check_in(client, alice, file_id, GCODE_V2, v1, message="Faster feed")
    )
    assert checked_in["changed"] is True
    assert checked_in["released"] is True
    v2 = checked_in["version"]["id"]
    assert checked_in["file"]["current_version"] == v2 != v1
    assert checked_in["file"]["status"] == "available"
    assert checked_in["version"]["author_name"] == "Alice Archer"
    assert checked_in["version"]["author_email"] == "alice@shop.example"

    history = await _json(await client.get(f"{FILES}/{file_id}/history", headers=bob.headers))
    assert [v["id"] for v in history] == [v2, v1]
    assert [v["message"] for v in history] == ["Faster feed", "First program"]

    old = await client.get(f"{FILES}/{file_id}/content?version={v1}", headers=bob.headers)
    assert old.status_code == 200
    assert old.content == GCODE_V1
    assert old.headers["x-vault-version"] == v1
    assert "shaft.nc" in old.headers["content-disposition"]
    newest = await client.get(f"{FILES}/{file_id}/content", headers=bob.headers)
    assert newest.content == GCODE_V2


async def test_second_check_out_names_the_holder(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice, bob = people["alice"], people["bob"]
    file_id = (await upload(alice, "bracket.mcam", MCAM_V1))["id"]
    assert (await _check_out(client, alice, file_id, "Rework pocket")).status_code == 200
    refused = await _json(await _check_out(client, bob, file_id), 409)
    assert "Alice Archer" in refused["detail"]
    assert "Rework pocket" in refused["detail"]
    assert refused["details"]["holder"]["display_name"] == "Alice Archer"
    assert refused["details"]["reason"] == "Rework pocket"
    assert refused["details"]["since"]
    # The holder cannot take it twice either, and bob cannot check in or undo it.
    assert (await _check_out(client, alice, file_id)).status_code == 409
    undo = await client.post(f"{FILES}/{file_id}/undo-checkout", headers=bob.headers)
    assert undo.status_code == 409
    assert "Alice Archer" in undo.json()["detail"]
    assert "Only the holder can undo the check-out." in undo.json()["detail"]


async def test_check_out_reason_is_required_and_bounded(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    file_id = (await upload(people["alice"], "a.nc", GCODE_V1))["id"]
    for reason in ("", "   ", "x" * 501):
        refused = await _json(await _check_out(client, people["alice"], file_id, reason), 422)
        assert "reason" in refused["detail"]
    assert (await _check_out(client, people["alice"], file_id, "x" * 500)).status_code == 200


async def test_check_in_stale_base_unchanged_content_and_keep_locked(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    created = await upload(alice, "part.nc", GCODE_V1)
    file_id, v1 = created["id"], created["current_version"]
    await _json(await _check_out(client, alice, file_id))
    kept = await _json(await _check_in(client, alice, file_id, GCODE_V2, v1, keep_locked="true"))
    v2 = kept["version"]["id"]
    assert kept["released"] is False
    assert kept["file"]["checked_out_by_me"] is True
    assert kept["file"]["lock"]["base_version"] == v2

    stale = await _json(await _check_in(client, alice, file_id, GCODE_V1, v1), 409)
    assert "download the newest version" in stale["detail"]
    assert stale["code"] == "stale_version"

    unchanged = await _json(await _check_in(client, alice, file_id, GCODE_V2, v2))
    assert unchanged["changed"] is False
    assert unchanged["version"] is None
    assert unchanged["file"]["current_version"] == v2
    assert unchanged["file"]["status"] == "available"
    history = await _json(await client.get(f"{FILES}/{file_id}/history", headers=alice.headers))
    assert len(history) == 2


async def test_check_in_needs_the_lock(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    created = await upload(people["alice"], "part.nc", GCODE_V1)
    refused = await _json(
        await _check_in(
            client, people["alice"], created["id"], GCODE_V2, created["current_version"]
        ),
        409,
    )
    assert "check it out first" in refused["detail"]


async def test_undo_check_out_releases_without_version(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    created = await upload(alice, "part.nc", GCODE_V1)
    await _json(await _check_out(client, alice, created["id"]))
    out = await _json(
        await client.post(f"{FILES}/{created['id']}/undo-checkout", headers=alice.headers)
    )
    assert out["status"] == "available"
    assert out["current_version"] == created["current_version"]


async def test_text_and_binary_diffs(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    for name, first, second in (("cut.nc", GCODE_V1, GCODE_V2), ("cut.mcam", MCAM_V1, MCAM_V2)):
        created = await upload(alice, name, first)
        v1 = created["current_version"]
        await _json(await _check_out(client, alice, created["id"]))
        v2 = (await _json(await _check_in(client, alice, created["id"], second, v1)))["version"][
            "id"
        ]
        diff = await _json(
            await client.get(
                f"{FILES}/{created['id']}/diff",
                params={"from": v1, "to": v2},
                headers=people["victor"].headers,
            )
        )
        changes = {c["field"]: c for c in diff["changes"]}
        assert diff["from_version"]["id"] == v1
        assert diff["to_version"]["id"] == v2
        assert changes["content_sha256"]["changed"] is True
        assert diff["identical"] is False
        if name.endswith(".nc"):
            assert diff["kind"] == "text"
            assert "-G1 X10 F100\n+G1 X20 F120\n" in diff["unified"]
        else:
            assert diff["kind"] == "binary"
            assert diff["unified"] is None
            assert (changes["size"]["old"], changes["size"]["new"]) == (len(MCAM_V1), len(MCAM_V2))
            assert changes["author"]["new"] == "Alice Archer"


async def test_rollback_makes_a_new_version_and_keeps_history(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice, bob, ada = people["alice"], people["bob"], people["ada"]
    created = await upload(alice, "part.nc", GCODE_V1)
    file_id, v1 = created["id"], created["current_version"]
    await _json(await _check_out(client, alice, file_id))
    v2 = (await _json(await _check_in(client, alice, file_id, GCODE_V2, v1)))["version"]["id"]

    not_holder = await client.post(
        f"{FILES}/{file_id}/rollback", headers=bob.headers, json={"version": v1}
    )
    assert not_holder.status_code == 403
    assert "holder" in not_holder.json()["detail"]

    rolled = await _json(
        await client.post(f"{FILES}/{file_id}/rollback", headers=ada.headers, json={"version": v1})
    )
    v3 = rolled["version"]["id"]
    assert v3 not in (v1, v2)
    assert rolled["file"]["current_version"] == v3
    history = await _json(await client.get(f"{FILES}/{file_id}/history", headers=bob.headers))
    assert [v["id"] for v in history] == [v3, v2, v1]
    assert history[0]["content_sha256"] == history[2]["content_sha256"]
    newest = await client.get(f"{FILES}/{file_id}/content", headers=bob.headers)
    assert newest.content == GCODE_V1


async def test_force_unlock_admin_only_and_notifies_holder(
    client: httpx.AsyncClient,
    people: People,
    upload: Upload,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, bob, ada = people["alice"], people["bob"], people["ada"]
    file_id = (await upload(alice, "fixture.mcam", MCAM_V1))["id"]
    await _json(await _check_out(client, alice, file_id, "Long job"))
    url = f"{FILES}/{file_id}/force-unlock"
    assert (
        await client.post(url, headers=bob.headers, json={"reason": "Need it"})
    ).status_code == 403
    assert (await client.post(url, headers=ada.headers, json={"reason": " "})).status_code == 422
    out = await _json(await client.post(url, headers=ada.headers, json={"reason": "Alice is away"}))
    assert out["status"] == "available"
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Message.subject, Message.body, Message.related_file, Message.sender_kind)
                .join(MessageRecipient, MessageRecipient.message_id == Message.id)
                .where(MessageRecipient.user_id == alice.id)
            )
        ).all()
    assert len(rows) == 1
    subject, body, related, kind = rows[0]
    assert "fixture.mcam" in subject
    assert "Alice is away" in body
    assert "Long job" in body
    assert (related, kind) == ("fixture.mcam", "system")
    inbox = await _json(await client.get("/api/messages", headers=alice.headers))
    assert inbox["total"] == 1
    # Bob can now take it.
    assert (await _check_out(client, bob, file_id)).status_code == 200


async def test_a_force_unlock_overtaken_by_the_holder_tells_the_admin_and_nobody_else(
    client: httpx.AsyncClient,
    people: People,
    upload: Upload,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, ada = people["alice"], people["ada"]
    file_id = (await upload(alice, "race.mcam", MCAM_V1))["id"]
    await _json(await _check_out(client, alice, file_id, "Long job"))
    release = DatabaseLockStore.release

    async def holder_checks_in_first(store: DatabaseLockStore, lock: LockInfo) -> bool:
        # The holder's check-in commits between the admin's read of the lock and its release.
        await vault_repository.delete_lock(store.session, lock.lock_id)
        return await release(store, lock)

    monkeypatch.setattr(DatabaseLockStore, "release", holder_checks_in_first)
    url = f"{FILES}/{file_id}/force-unlock"
    refused = await client.post(url, headers=ada.headers, json={"reason": "Alice is away"})
    assert refused.status_code == 409, refused.text
    assert "ended a moment ago" in refused.json()["detail"]
    async with sessions() as session:
        sent = await session.scalar(select(func.count()).select_from(Message))
    assert sent == 0  # the holder is not told about a release that did not happen
    assert ("vault.force_unlock", "ada") not in await _audit_actions(sessions)


async def test_viewers_read_but_cannot_write(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    victor = people["victor"]
    file_id = (await upload(people["alice"], "a.nc", GCODE_V1))["id"]
    assert (await client.get(FILES, headers=victor.headers)).status_code == 200
    assert (
        await client.get(f"{FILES}/{file_id}/history", headers=victor.headers)
    ).status_code == 200
    assert (await _check_out(client, victor, file_id)).status_code == 403
    refused = await client.post(FILES, headers=victor.headers, files={"file": ("b.nc", b"G0\n")})
    assert refused.status_code == 403
    assert (await client.get(FILES)).status_code == 401


async def test_bad_names_extensions_and_sizes_are_refused(
    client: httpx.AsyncClient, people: People, upload: Upload, settings: Any
) -> None:
    alice = people["alice"]
    cases = {
        "../escape.nc": "'..'",
        "/etc/passwd.nc": "absolute",
        "a/../../b.nc": "'..'",
        "bad\x01name.nc": "control characters",
        ("x" * 256) + ".nc": "at most 255",
        "notes.txt": "allowed extensions",
        "noextension": "allowed extensions",
    }
    for name, words in cases.items():
        response = await client.post(
            FILES, headers=alice.headers, files={"file": ("f", b"G0\n")}, data={"name": name}
        )
        assert response.status_code == 422, (name, response.text)
        assert words in response.json()["detail"], (name, response.json()["detail"])
    settings.vault_max_upload_bytes = 10
    too_big = await client.post(
        FILES, headers=alice.headers, files={"file": ("big.nc", b"G0 X1\n" * 5)}
    )
    assert too_big.status_code == 413
    assert "MiB" in too_big.json()["detail"]
    listing = await _json(await client.get(FILES, headers=alice.headers))
    assert listing["vault_total"] == 0


async def test_an_oversized_upload_is_refused_before_it_is_read(
    settings: Settings, engine: AsyncEngine, people: People
) -> None:
    settings.vault_max_upload_bytes = 10
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            FILES,
            headers=people["alice"].headers,
            files={"file": ("big.nc", b"G0 X1\n" * 60_000)},  # past the form's allowance too
        )
        assert response.status_code == 413, response.text
        assert "MERGE_ASSIST_VAULT_MAX_UPLOAD_BYTES" in response.json()["detail"]


async def test_duplicate_upload_is_a_conflict(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    await upload(people["alice"], "a.nc", GCODE_V1)
    again = await client.post(
        FILES, headers=people["bob"].headers, files={"file": ("a.nc", GCODE_V2)}
    )
    assert again.status_code == 409
    assert "already in the vault" in again.json()["detail"]


async def test_names_differing_only_by_case_are_a_conflict_naming_the_file(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    """Issue 13, item 9: a Windows or macOS clone could keep only one of them."""
    await upload(people["alice"], "Mill/Part.nc", GCODE_V1)
    for clash in ("mill/part.nc", "MILL/PART.NC", "mill/other.nc"):
        again = await client.post(
            FILES, headers=people["bob"].headers, files={"file": (clash, GCODE_V2)}
        )
        assert again.status_code == 409, clash
        assert "'Mill/Part.nc'" in again.json()["detail"]
        assert "only by case" in again.json()["detail"]


async def test_windows_reserved_names_are_refused(
    client: httpx.AsyncClient, people: People
) -> None:
    """Issue 13, item 9: ``CON.nc`` was accepted and committed."""
    for name in ("CON.nc", "aux.nc", "lpt1/x.nc", "ab:c.nc"):
        refused = await client.post(
            FILES, headers=people["alice"].headers, files={"file": (name, GCODE_V1)}
        )
        assert refused.status_code == 422, name
        assert "Windows" in refused.json()["detail"]


async def test_list_search_status_sort_and_totals(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice, bob = people["alice"], people["bob"]
    ids = {}
    for name, size in (("mill/a.nc", 3), ("mill/b.mcam", 9), ("lathe/c.tap", 6)):
        ids[name] = (await upload(alice, name, b"G" * size))["id"]
    await _json(await _check_out(client, alice, ids["mill/a.nc"]))
    await _json(await _check_out(client, bob, ids["lathe/c.tap"]))

    async def names(query: dict[str, str], person: Person = alice) -> tuple[list[str], int, int]:
        page = await _json(await client.get(FILES, params=query, headers=person.headers))
        return [i["path"] for i in page["items"]], page["total"], page["vault_total"]

    assert await names({}) == (["lathe/c.tap", "mill/a.nc", "mill/b.mcam"], 3, 3)
    assert await names({"search": "MILL"}) == (["mill/a.nc", "mill/b.mcam"], 2, 3)
    assert await names({"status": "available"}) == (["mill/b.mcam"], 1, 3)
    assert await names({"status": "checked_out"}) == (["lathe/c.tap", "mill/a.nc"], 2, 3)
    assert await names({"status": "mine"}) == (["mill/a.nc"], 1, 3)
    assert await names({"status": "mine"}, bob) == (["lathe/c.tap"], 1, 3)
    assert (await names({"sort": "size", "order": "desc"}))[0] == [
        "mill/b.mcam",
        "lathe/c.tap",
        "mill/a.nc",
    ]
    assert (await names({"sort": "status"}))[0][0] == "mill/b.mcam"
    assert (await names({"limit": "1", "offset": "1"}))[0] == ["mill/a.nc"]
    bad = await client.get(FILES, params={"status": "lost"}, headers=alice.headers)
    assert bad.status_code == 422


async def test_a_name_cannot_be_a_file_and_a_folder(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    await upload(alice, "fixtures/vise.nc", b"G0\n")
    await upload(alice, "cam.nc/op1.nc", b"G0\n")
    for name, words in (
        ("fixtures/vise.nc/jaw.nc", "'fixtures/vise.nc' is a file in the vault"),
        ("cam.nc", "'cam.nc' is a folder in the vault (it holds 'cam.nc/op1.nc')"),
    ):
        refused = await client.post(FILES, headers=alice.headers, files={"file": (name, b"G1\n")})
        assert refused.status_code == 409, refused.text
        assert words in refused.json()["detail"]
    page = await _json(await client.get(FILES, headers=alice.headers))
    assert page["vault_total"] == 2  # nothing was half-added


async def test_search_takes_underscores_and_percent_signs_literally(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    for name in ("op_10.nc", "op910.nc", "op%10.nc"):
        await upload(alice, name, b"G0\n")

    async def found(search: str) -> list[str]:
        page = await _json(
            await client.get(FILES, params={"search": search}, headers=alice.headers)
        )
        return [item["path"] for item in page["items"]]

    assert await found("op_1") == ["op_10.nc"]
    assert await found("op%1") == ["op%10.nc"]
    assert await found("op") == ["op%10.nc", "op910.nc", "op_10.nc"]


async def test_unknown_vault_file_and_version_are_404(
    client: httpx.AsyncClient, people: People, upload: Upload
) -> None:
    alice = people["alice"]
    file_id = (await upload(alice, "a.nc", GCODE_V1))["id"]
    assert (await client.get("/api/vault/nope/files", headers=alice.headers)).status_code == 404
    assert (await client.get(f"{FILES}/999", headers=alice.headers)).status_code == 404
    missing = await client.get(
        f"{FILES}/{file_id}/content", params={"version": "0" * 40}, headers=alice.headers
    )
    assert missing.status_code == 404
    vaults = await _json(await client.get("/api/vault/vaults", headers=alice.headers))
    assert [(v["name"], v["backend"], v["is_default"]) for v in vaults] == [
        ("default", "local", True)
    ]
    assert vaults[0]["file_count"] == 1  # the dashboard opens a vault with files


async def test_every_action_is_audited(
    client: httpx.AsyncClient,
    people: People,
    upload: Upload,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, ada = people["alice"], people["ada"]
    created = await upload(alice, "a.nc", GCODE_V1)
    file_id, v1 = created["id"], created["current_version"]
    await _json(await _check_out(client, alice, file_id))
    v2 = (await _json(await _check_in(client, alice, file_id, GCODE_V2, v1)))["version"]["id"]
    await _json(await _check_out(client, alice, file_id))
    await _json(await client.post(f"{FILES}/{file_id}/undo-checkout", headers=alice.headers))
    await _json(await _check_out(client, alice, file_id))
    await _json(
        await client.post(
            f"{FILES}/{file_id}/force-unlock", headers=ada.headers, json={"reason": "Shift ended"}
        )
    )
    await _json(
        await client.post(f"{FILES}/{file_id}/rollback", headers=ada.headers, json={"version": v1})
    )
    download = await client.get(f"{FILES}/{file_id}/content?version={v2}", headers=alice.headers)
    assert download.status_code == 200
    vault_actions = [a for a in await _audit_actions(sessions) if a[0].startswith("vault.")]
    assert vault_actions == [
        ("vault.upload", "alice"),
        ("vault.checkout", "alice"),
        ("vault.checkin", "alice"),
        ("vault.checkout", "alice"),
        ("vault.undo_checkout", "alice"),
        ("vault.checkout", "alice"),
        ("vault.force_unlock", "ada"),
        ("vault.rollback", "ada"),
        ("vault.download", "alice"),
    ]
    assert ("message.send", "system") in await _audit_actions(sessions)


async def test_fifty_concurrent_check_outs_have_one_winner(
    client: httpx.AsyncClient,
    people: People,
    upload: Upload,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, bob = people["alice"], people["bob"]
    file_id = (await upload(alice, "contended.mcam", MCAM_V1))["id"]
    contenders = [alice if i % 2 == 0 else bob for i in range(50)]
    responses = await asyncio.gather(
        *(_check_out(client, person, file_id, f"try {i}") for i, person in enumerate(contenders))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 49, codes
    winner = next(r for r in responses if r.status_code == 200).json()["lock"]
    for refused in (r for r in responses if r.status_code == 409):
        body = refused.json()
        assert body["details"]["holder"]["display_name"] == winner["holder"]["display_name"]
        assert winner["holder"]["display_name"] in body["detail"]
        assert body["details"]["reason"] == winner["reason"]
    async with sessions() as session:
        outcomes = (
            await session.execute(
                select(AuditEntry.success, AuditEntry.details).where(
                    AuditEntry.action == "vault.checkout"
                )
            )
        ).all()
    assert sorted(row[0] for row in outcomes) == [False] * 49 + [True]
    refusals = [row[1] for row in outcomes if not row[0]]
    assert all(details["refusal"] == "lock_held" for details in refusals)


async def test_refusals_are_audited_as_failures(
    client: httpx.AsyncClient,
    people: People,
    upload: Upload,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alice, bob = people["alice"], people["bob"]
    created = await upload(alice, "a.nc", GCODE_V1)
    file_id = created["id"]
    await _json(await _check_out(client, alice, file_id))
    assert (await _check_out(client, bob, file_id)).status_code == 409
    stale = await _check_in(client, alice, file_id, GCODE_V2, "f" * 40)
    assert stale.status_code == 409
    bad_name = await client.post(
        FILES, headers=bob.headers, files={"file": ("f", b"G0\n")}, data={"name": "../x.nc"}
    )
    assert bad_name.status_code == 422
    async with sessions() as session:
        rows = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_name, AuditEntry.details)
                .where(AuditEntry.success.is_(False))
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(row[0], row[1], row[2]["refusal"]) for row in rows] == [
        ("vault.checkout", "bob", "lock_held"),
        ("vault.checkin", "alice", "stale_version"),
        ("vault.upload", "bob", "invalid"),
    ]
    assert "Alice Archer" in rows[0][2]["detail"]
    # The lock and the file are as they were: the refused requests changed nothing.
    details = await _json(await client.get(f"{FILES}/{file_id}", headers=bob.headers))
    assert details["lock"]["holder"]["username"] == "alice"
    assert details["current_version"] == created["current_version"]
