"""The GitLab backend against the GitLab sandbox over real HTTP, alone and behind the API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.gitlab import GitLabClient
from merge_assist.gitlab.retry import RetryPolicy
from merge_assist.kit.db import unit_of_work
from merge_assist.kit.live.app_hub import hub_of
from merge_assist.kit.settings import Environment, Settings
from merge_assist.projects import permissions
from merge_assist.projects.models import Project
from merge_assist.projects.schemas import PermissionGrant
from merge_assist.projects.service import Actor
from merge_assist.vault import service
from merge_assist.vault.gitlab_storage import GitLabStorage
from merge_assist.vault.models import Vault, VaultBackend
from merge_assist.vault.storage import CommitAuthor, FileExists, StaleVersion, VersionNotFound
from tests.conftest import MakeAccount
from tests.vault.conftest import People

PROJECT = "acme/cnc"
AUTHOR = CommitAuthor("Alice Archer", "alice@shop.example")
SCENARIO: dict[str, Any] = {
    "users": [
        {"username": "root", "admin": True},
        {"username": "marge-bot", "bot": True, "tokens": [{"name": "bot", "scopes": ["api"]}]},
        {
            "username": "carol",
            "name": "Carol Cutter",
            "email": "carol@shop.example",
            "tokens": [{"name": "dashboard", "scopes": ["api"]}],
        },
        {
            "username": "rita",
            "name": "Rita Reader",
            "email": "rita@shop.example",
            "tokens": [{"name": "dashboard", "scopes": ["api"]}],
        },
        {
            # Enough to sign in, not to commit through the REST API (no 'api' scope).
            "username": "lena",
            "name": "Lena Least",
            "email": "lena@shop.example",
            "tokens": [
                {
                    "name": "least",
                    "scopes": ["read_api", "read_repository", "write_repository"],
                }
            ],
        },
    ],
    "projects": [
        {
            "path": PROJECT,
            "owner": "root",
            "default_branch": "main",
            "members": {
                "marge-bot": "maintainer",
                "carol": "developer",
                "rita": "reporter",
                "lena": "developer",
            },
            "files": {
                "README.md": "# cnc\n",
                "programs/existing.nc": "G0 X0\n",
                "programs/notes.txt": "not a program\n",
            },
        }
    ],
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO, seed=0) as running:
        yield running


def _factory(sandbox: RunningSandbox) -> Any:
    return lambda: GitLabClient(
        sandbox.url, sandbox.token_for("marge-bot"), retry=RetryPolicy(max_retries=0)
    )


@pytest.fixture
def storage(sandbox: RunningSandbox) -> GitLabStorage:
    folder = f"vault-{uuid.uuid4().hex[:8]}"  # each test its own folder of the shared project
    return GitLabStorage(
        _factory(sandbox), PROJECT, branch="main", folder=folder, writer=_factory(sandbox)
    )


async def test_write_history_read_and_compare_and_swap(storage: GitLabStorage) -> None:
    assert await storage.list_files() == []
    v1 = await storage.write(
        "mill/part.mcam", b"\x00bin-1", message="First cut", author=AUTHOR, base_version=None
    )
    v2 = await storage.write(
        "mill/part.mcam", b"\x00bin-22", message="Second cut", author=AUTHOR, base_version=v1.id
    )
    assert (v2.size, v2.author_name, v2.author_email) == (7, "Alice Archer", "alice@shop.example")
    history = await storage.history("mill/part.mcam")
    assert [v.id for v in history] == [v2.id, v1.id]
    assert [v.message for v in history] == ["Second cut", "First cut"]
    assert history[1].size == 6
    assert history[0].content_sha256 == v2.content_sha256 != v1.content_sha256
    assert await storage.read("mill/part.mcam", v1.id) == b"\x00bin-1"
    assert await storage.read("mill/part.mcam") == b"\x00bin-22"
    assert (await storage.version("mill/part.mcam", v1.id)).content_sha256 == v1.content_sha256
    listed = await storage.list_files()
    assert [(f.path, f.version, f.size) for f in listed] == [("mill/part.mcam", v2.id, 7)]

    with pytest.raises(StaleVersion):
        await storage.write(
            "mill/part.mcam", b"late", message="Late", author=AUTHOR, base_version=v1.id
        )
    with pytest.raises(FileExists):
        await storage.write(
            "mill/part.mcam", b"again", message="Again", author=AUTHOR, base_version=None
        )
    assert len(await storage.history("mill/part.mcam")) == 2


async def test_unknown_versions_are_not_found(storage: GitLabStorage) -> None:
    v1 = await storage.write("a.nc", b"G0\n", message="Add", author=AUTHOR, base_version=None)
    await storage.write("b.nc", b"G1\n", message="Other", author=AUTHOR, base_version=None)
    with pytest.raises(VersionNotFound):
        await storage.read("a.nc", "0" * 40)
    other = (await storage.history("b.nc"))[0].id
    with pytest.raises(VersionNotFound):
        await storage.version("a.nc", other)  # a commit, but not one of a.nc
    assert (await storage.version("a.nc", v1.id)).id == v1.id


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings whose GitLab is the sandbox and whose bot is marge-bot."""
    monkeypatch.setenv("MERGE_ASSIST_SECRET_GITLAB_BOT_TOKEN", sandbox.token_for("marge-bot"))
    return Settings(
        environment=Environment.test,
        data_dir=tmp_path / "data",
        database_url=database_url,
        allowed_hosts="testserver",  # the Host of the ASGI test clients
        secret_key="test-secret-key-" + uuid.uuid4().hex,  # type: ignore[arg-type]
        password_hash_profile="test",
        gitlab_url=sandbox.url,
        gitlab_max_retries=0,
        gitlab_login_default_role="member",
        _env_file=None,  # type: ignore[call-arg]
    )


async def _gitlab_user(
    client: httpx.AsyncClient, sandbox: RunningSandbox, username: str
) -> dict[str, str]:
    """Sign in with the GitLab token of ``username``; the header acting as them."""
    signed_in = await client.post(
        "/api/auth/login-gitlab", json={"token": sandbox.token_for(username)}
    )
    assert signed_in.status_code == 200, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['access_token']}"}


async def _gitlab_vault(
    sessions: async_sessionmaker[AsyncSession], sandbox: RunningSandbox, name: str, *, folder: str
) -> Vault:
    """The sandbox project onboarded (a row of its own) and a GitLab vault on ``folder``."""
    gitlab_project = sandbox.sandbox.store.project_by_ref(PROJECT)
    assert gitlab_project is not None
    async with unit_of_work(sessions) as session:
        project = Project(
            gitlab_project_id=gitlab_project.id, path_with_namespace=PROJECT, name="cnc"
        )
        session.add(project)
        await session.flush()
        return await service.create_vault(
            session, name=name, backend=VaultBackend.gitlab, project_id=project.id, folder=folder
        )


async def test_gitlab_vault_through_the_api(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
) -> None:
    folder = f"shop-{uuid.uuid4().hex[:6]}"
    vault = await _gitlab_vault(sessions, sandbox, "cnc", folder=folder)
    assert vault.branch == "main"
    files = f"/api/vault/{vault.id}/files"
    carol = await _gitlab_user(client, sandbox, "carol")  # commits with her own token
    created = await client.post(files, headers=carol, files={"file": ("op10.nc", b"G0 X0\n")})
    assert created.status_code == 201, created.text
    file_id, v1 = created.json()["id"], created.json()["current_version"]
    checkout = await client.post(
        f"{files}/{file_id}/checkout", headers=carol, json={"reason": "Tune"}
    )
    assert checkout.status_code == 200, checkout.text
    checked_in = await client.post(
        f"{files}/{file_id}/checkin",
        headers=carol,
        files={"file": ("op10.nc", b"G0 X5\n")},
        data={"base_version": v1, "message": "Tuned"},
    )
    assert checked_in.status_code == 200, checked_in.text
    v2 = checked_in.json()["version"]["id"]

    async with _factory(sandbox)() as gitlab:
        commit = await gitlab.get_commit(PROJECT, v2)
        raw = await gitlab.get_raw_file(PROJECT, f"{folder}/op10.nc", ref="main")
    assert (commit.author_name, commit.author_email) == ("Carol Cutter", "carol@shop.example")
    assert raw == b"G0 X5\n"
    history = await client.get(f"/api/vault/cnc/files/{file_id}/history", headers=carol)
    assert [v["id"] for v in history.json()] == [v2, v1]
    diff = await client.get(f"{files}/{file_id}/diff", params={"from": v1, "to": v2}, headers=carol)
    assert diff.json()["kind"] == "text"
    assert "-G0 X0\n+G0 X5\n" in diff.json()["unified"]
    old = await client.get(f"{files}/{file_id}/content?version={v1}", headers=carol)
    assert old.content == b"G0 X0\n"

    # The holder rolls back: a new version equal to v1, history kept.
    again = await client.post(
        f"{files}/{file_id}/checkout", headers=carol, json={"reason": "Undo the tuning"}
    )
    assert again.status_code == 200, again.text
    rolled = await client.post(f"{files}/{file_id}/rollback", headers=carol, json={"version": v1})
    assert rolled.status_code == 200, rolled.text
    v3 = rolled.json()["version"]["id"]
    history = await client.get(f"{files}/{file_id}/history", headers=carol)
    assert [v["id"] for v in history.json()] == [v3, v2, v1]
    newest = await client.get(f"{files}/{file_id}/content", headers=carol)
    assert newest.content == b"G0 X0\n"

    # A binary program gets a metadata diff, never a text diff of its bytes.
    first, second = b"MCAM\x00\x01part-one", b"MCAM\x00\x01part-two!"
    binary = await client.post(files, headers=carol, files={"file": ("op20.mcam", first)})
    assert binary.status_code == 201, binary.text
    binary_id, b1 = binary.json()["id"], binary.json()["current_version"]
    await client.post(f"{files}/{binary_id}/checkout", headers=carol, json={"reason": "x"})
    b2 = (
        await client.post(
            f"{files}/{binary_id}/checkin",
            headers=carol,
            files={"file": ("op20.mcam", second)},
            data={"base_version": b1},
        )
    ).json()["version"]["id"]
    diff = await client.get(
        f"{files}/{binary_id}/diff", params={"from": b1, "to": b2}, headers=carol
    )
    assert (diff.json()["kind"], diff.json()["unified"]) == ("binary", None)
    sizes = {c["field"]: (c["old"], c["new"]) for c in diff.json()["changes"]}["size"]
    assert sizes == (len(first), len(second))


async def test_sync_picks_up_files_committed_in_gitlab(
    client: httpx.AsyncClient,
    people: People,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
) -> None:
    await _gitlab_vault(sessions, sandbox, "programs", folder="programs")
    alice = people["alice"]
    # Two syncs at once (a double click, two admins): both answer, each file is recorded once.
    first, second = await asyncio.gather(
        client.post("/api/vault/programs/sync", headers=alice.headers),
        client.post("/api/vault/programs/sync", headers=alice.headers),
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json()["added"] + second.json()["added"] == 1
    assert first.json()["ignored"] == 1  # notes.txt: not an extension the vault holds
    listing = (await client.get("/api/vault/programs/files", headers=alice.headers)).json()
    assert [item["path"] for item in listing["items"]] == ["existing.nc"]
    again = await client.post("/api/vault/programs/sync", headers=alice.headers)
    assert again.json() == {"added": 0, "updated": 0, "ignored": 1}


async def test_a_gitlab_token_user_checks_in_as_their_gitlab_identity(
    client: httpx.AsyncClient,
    people: People,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
) -> None:
    folder = f"pat-{uuid.uuid4().hex[:6]}"
    vault = await _gitlab_vault(sessions, sandbox, "pat", folder=folder)
    signed_in = await client.post(
        "/api/auth/login-gitlab", json={"token": sandbox.token_for("carol")}
    )
    assert signed_in.status_code == 200, signed_in.text
    carol = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    files = f"/api/vault/{vault.id}/files"
    created = await client.post(files, headers=carol, files={"file": ("op20.nc", b"G1 X1\n")})
    assert created.status_code == 201, created.text
    file_id, v1 = created.json()["id"], created.json()["current_version"]
    checkout = await client.post(
        f"{files}/{file_id}/checkout", headers=carol, json={"reason": "Feed rate"}
    )
    assert checkout.status_code == 200, checkout.text
    checked_in = await client.post(
        f"{files}/{file_id}/checkin",
        headers=carol,
        files={"file": ("op20.nc", b"G1 X2\n")},
        data={"base_version": v1, "message": "Faster feed"},
    )
    assert checked_in.status_code == 200, checked_in.text
    async with _factory(sandbox)() as gitlab:
        commit = await gitlab.get_commit(PROJECT, checked_in.json()["version"]["id"])
    # Committed with carol's own token: GitLab records her as the committer, not the bot.
    assert (commit.committer_name, commit.committer_email) == ("Carol Cutter", "carol@shop.example")
    assert commit.author_name == "Carol Cutter"


async def test_gitlab_refusing_a_users_own_commit_is_a_403_that_says_why(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
) -> None:
    vault = await _gitlab_vault(sessions, sandbox, "ro", folder="ro")
    signed_in = await client.post(
        "/api/auth/login-gitlab", json={"token": sandbox.token_for("rita")}
    )
    assert signed_in.status_code == 200, signed_in.text
    rita = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    refused = await client.post(
        f"/api/vault/{vault.id}/files", headers=rita, files={"file": ("op30.nc", b"G1\n")}
    )
    assert refused.status_code == 403, refused.text
    assert "Developer access" in refused.json()["detail"]
    listing = await client.get(f"/api/vault/{vault.id}/files", headers=rita)
    assert listing.json()["vault_total"] == 0  # nothing half-added


async def test_gitlab_vault_writes_never_go_through_the_bot(
    client: httpx.AsyncClient,
    people: People,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
) -> None:
    """A user without a GitLab token of their own ('api' scope) cannot change a GitLab vault:
    403 with a sentence, nothing committed (the bot's token would have let them)."""
    folder = f"nobot-{uuid.uuid4().hex[:6]}"
    vault = await _gitlab_vault(sessions, sandbox, "nobot", folder=folder)
    files = f"/api/vault/{vault.id}/files"
    async with _factory(sandbox)() as gitlab:
        before = len(await gitlab.file_history(PROJECT, folder, ref="main"))
    lena = await _gitlab_user(client, sandbox, "lena")  # signs in; no 'api' scope
    for headers in (people["alice"].headers, lena):  # a password user; a token without api
        refused = await client.post(files, headers=headers, files={"file": ("op1.nc", b"G0\n")})
        assert refused.status_code == 403, refused.text
        detail = refused.json()["detail"]
        assert "never with its bot's" in detail
        assert "sign in with a GitLab personal access token" in detail
    async with _factory(sandbox)() as gitlab:
        assert len(await gitlab.file_history(PROJECT, folder, ref="main")) == before
    listing = await client.get(files, headers=people["alice"].headers)
    assert listing.json()["vault_total"] == 0

    # A file someone else added: the password user may check it out (a lock, in our database)
    # and read it, but not check a new version in.
    carol = await _gitlab_user(client, sandbox, "carol")
    added = await client.post(files, headers=carol, files={"file": ("op2.nc", b"G1\n")})
    assert added.status_code == 201, added.text
    file_id, v1 = added.json()["id"], added.json()["current_version"]
    alice = people["alice"].headers
    taken = await client.post(f"{files}/{file_id}/checkout", headers=alice, json={"reason": "x"})
    assert taken.status_code == 200, taken.text
    content = await client.get(f"{files}/{file_id}/content", headers=alice)
    assert content.content == b"G1\n"
    checkin = await client.post(
        f"{files}/{file_id}/checkin",
        headers=alice,
        files={"file": ("op2.nc", b"G1 X9\n")},
        data={"base_version": v1},
    )
    assert checkin.status_code == 403, checkin.text
    assert "never with its bot's" in checkin.json()["detail"]
    async with _factory(sandbox)() as gitlab:
        raw = await gitlab.get_raw_file(PROJECT, f"{folder}/op2.nc", ref="main")
    assert raw == b"G1\n"


async def test_a_project_vault_exists_only_for_those_who_see_the_project(
    client: httpx.AsyncClient,
    people: People,
    sessions: async_sessionmaker[AsyncSession],
    sandbox: RunningSandbox,
    make_account: MakeAccount,
    app: FastAPI,
) -> None:
    """The rule of GET /api/projects: a user without a role sees only projects granted to
    them, so a vault of another project is 404 for every read and write."""
    vault = await _gitlab_vault(sessions, sandbox, "seen", folder="programs")
    synced = await client.post("/api/vault/seen/sync", headers=people["alice"].headers)
    assert synced.status_code == 200, synced.text
    files = f"/api/vault/{vault.id}/files"
    file_id = (await client.get(files, headers=people["victor"].headers)).json()["items"][0]["id"]
    admin = people["ada"].headers
    outsider = await make_account("otto")
    me = (await client.get("/api/auth/me", headers=outsider)).json()
    dropped = await client.patch(f"/api/users/{me['id']}", json={"roles": []}, headers=admin)
    assert dropped.is_success, dropped.text
    assert (await client.get("/api/projects", headers=outsider)).json() == []

    for ref in (vault.id, "seen"):
        for method, path in (
            ("GET", f"/api/vault/{ref}/files"),
            ("GET", f"/api/vault/{ref}/files/{file_id}"),
            ("GET", f"/api/vault/{ref}/files/{file_id}/content"),
            ("GET", f"/api/vault/{ref}/files/{file_id}/history"),
        ):
            answer = await client.request(method, path, headers=outsider)
            assert answer.status_code == 404, (path, answer.text)
            assert answer.json()["detail"] == f"There is no vault {str(ref)!r}."
    vaults = (await client.get("/api/vault/vaults", headers=outsider)).json()
    assert "seen" not in [v["name"] for v in vaults]
    # Live: a check-out in the vault reaches those who see the project, not the outsider.
    hub = hub_of(app.state.resources)
    deaf, hearing = hub.connect(me["id"]), hub.connect(people["victor"].id)
    taken = await client.post(
        f"{files}/{file_id}/checkout", headers=people["alice"].headers, json={"reason": "x"}
    )
    assert taken.status_code == 200, taken.text
    assert deaf.queue.qsize() == 0
    assert '"type": "vault.file"' in (hearing.queue.get_nowait() or "")

    # Granted a permission on the project, the same user sees the vault.
    async with unit_of_work(sessions) as session:
        await permissions.set_permission(
            session,
            Actor(None, "test"),
            vault.project_id or 0,
            PermissionGrant(user_id=me["id"], can_set_priority=True),
        )
    assert (await client.get(files, headers=outsider)).status_code == 200
    content = await client.get(f"{files}/{file_id}/content", headers=outsider)
    assert content.content == b"G0 X0\n"
    vaults = (await client.get("/api/vault/vaults", headers=outsider)).json()
    assert "seen" in [v["name"] for v in vaults]
