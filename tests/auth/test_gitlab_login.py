"""``POST /api/auth/login-gitlab`` against the GitLab sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gitlab_sandbox.testing import RunningSandbox, run_sandbox
from merge_assist.audit.models import AuditEntry
from merge_assist.auth.models import GitLabIdentity, User
from merge_assist.kit.settings import Settings
from merge_assist.messaging.models import Message, MessageRecipient
from tests.auth.conftest import USER_PASSWORD, Account, MakeUser, sign_in

# Not "glpat-..." on purpose: the log redaction knows that prefix, and these tests must show
# that the token is never written anywhere, not that it is redacted afterwards.
ALICE = "sandboxpat-alice-api-4f1c9e0b7a2d"
ALICE_SOON = "sandboxpat-alice-soon-8d3e1f2a9c0b"
ALICE_READ_API = "sandboxpat-alice-readapi-1a2b3c4d5e"
ALICE_READ_USER = "sandboxpat-alice-readuser-6f7a8b9c0d"
ALICE_EXPIRED = "sandboxpat-alice-expired-0e1d2c3b4a"
CAROL = "sandboxpat-carol-api-5b6c7d8e9f0a"
BOT = "sandboxpat-projectbot-9a8b7c6d5e4f"
ALICE_LEAST = "sandboxpat-alice-least-2b3c4d5e6f"
DAVE = "sandboxpat-dave-api-3c4d5e6f7a8b"
POSER = "sandboxpat-poser-api-7c8d9e0f1a2b"

SCENARIO: dict[str, Any] = {
    "users": [
        {"username": "root", "admin": True},
        {
            "username": "alice",
            "name": "Alice Liddell",
            "tokens": [
                {"name": "main", "scopes": ["api"], "value": ALICE},
                {"name": "soon", "scopes": ["api"], "expires_in_days": 3, "value": ALICE_SOON},
                {"name": "read-api", "scopes": ["read_api"], "value": ALICE_READ_API},
                {"name": "read-user", "scopes": ["read_user"], "value": ALICE_READ_USER},
                {
                    "name": "least",
                    "scopes": ["read_api", "read_repository", "write_repository"],
                    "value": ALICE_LEAST,
                },
                {
                    "name": "old",
                    "scopes": ["api"],
                    "expires_at": "2001-01-01",
                    "value": ALICE_EXPIRED,
                },
            ],
        },
        {"username": "carol", "tokens": [{"name": "main", "scopes": ["api"], "value": CAROL}]},
        {"username": "dave", "tokens": [{"name": "main", "scopes": ["api"], "value": DAVE}]},
        {
            "username": "merge-assist",
            "name": "Merge Assist",
            "tokens": [{"name": "main", "scopes": ["api"], "value": POSER}],
        },
        {
            "username": "project_1_bot",
            "bot": True,
            "tokens": [{"name": "bot", "scopes": ["api"], "value": BOT}],
        },
    ],
    "groups": [
        {"path": "acme", "members": {"alice": "developer"}},
        {"path": "acme/cnc", "members": {"dave": "guest"}},
        {"path": "elsewhere", "members": {"carol": "owner"}},
    ],
}


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with run_sandbox(SCENARIO, seed=0) as running:
        yield running


@pytest.fixture
def settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    """The auth settings, with the sandbox as GitLab."""
    return settings.model_copy(update={"gitlab_url": sandbox.url, "gitlab_max_retries": 0})


async def gitlab_sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/login-gitlab", json={"token": token})


async def user_named(sessions: async_sessionmaker[AsyncSession], username: str) -> User | None:
    async with sessions() as session:
        return await session.scalar(select(User).where(User.username == username))


async def test_first_sign_in_registers_the_user_with_the_default_role_and_reuses_it(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], sandbox: RunningSandbox
) -> None:
    first = await gitlab_sign_in(client, ALICE)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["token_type"] == "bearer"
    assert body["refresh_token"]
    assert body["gitlab_token_expires_at"] is None
    assert body["warning"] is None
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["display_name"] == "Alice Liddell"
    assert me.json()["roles"] == ["viewer"]  # read-only until an administrator says more

    second = await gitlab_sign_in(client, ALICE)
    assert second.status_code == 200, second.text
    me_again = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
    )
    assert me_again.json()["id"] == me.json()["id"]
    gitlab_alice = sandbox.sandbox.store.user_by_username("alice")
    assert gitlab_alice is not None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        user = await session.scalar(select(User))
        assert user is not None
        assert user.gitlab_user_id == gitlab_alice.id
        assert user.password_hash is None
        identity = await session.scalar(select(GitLabIdentity))
        assert identity is not None
        assert identity.gitlab_username == "alice"
        assert identity.scopes == "api"


async def test_the_refresh_token_of_a_gitlab_sign_in_rotates_like_any_other(
    client: httpx.AsyncClient,
) -> None:
    signed_in = (await gitlab_sign_in(client, ALICE)).json()
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != signed_in["refresh_token"]


async def test_the_default_role_is_configurable(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    app.state.resources.settings = settings.model_copy(
        update={"gitlab_login_default_role": "viewer"}
    )
    body = (await gitlab_sign_in(client, ALICE)).json()
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["roles"] == ["viewer"]


async def test_the_default_role_may_be_none(
    app: Any, client: httpx.AsyncClient, settings: Settings, admin: Account
) -> None:
    app.state.resources.settings = settings.model_copy(update={"gitlab_login_default_role": "none"})
    body = (await gitlab_sign_in(client, ALICE)).json()
    alice = {"Authorization": f"Bearer {body['access_token']}"}
    me = await client.get("/api/auth/me", headers=alice)
    assert me.json()["roles"] == []
    projects = await client.get("/api/projects", headers=alice)
    assert (projects.status_code, projects.json()) == (200, [])


def test_gitlab_sign_in_registers_viewers_by_default() -> None:
    assert Settings.model_fields["gitlab_login_default_role"].default == "viewer"
    assert Settings.model_fields["gitlab_login_allowed_groups"].default == ""


@pytest.mark.parametrize(
    ("allowed", "token", "admitted"),
    [
        ("acme", ALICE, True),  # a member of the group
        ("acme", DAVE, True),  # a member of one of its subgroups
        (" ACME/cnc/ ", ALICE, True),  # a member of a parent group is one of the subgroup
        ("acme/cnc", DAVE, True),
        ("acme", CAROL, False),  # only in another group
        ("partners, acme", CAROL, False),
        ("elsewhere,nowhere", CAROL, True),
    ],
)
async def test_sign_in_can_be_limited_to_members_of_gitlab_groups(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    allowed: str,
    token: str,
    admitted: bool,
) -> None:
    app.state.resources.settings = settings.model_copy(
        update={"gitlab_login_allowed_groups": allowed}
    )
    response = await gitlab_sign_in(client, token)
    if admitted:
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == (
        "Your GitLab account is not a member of any GitLab group allowed to use Merge Assist; "
        "ask your administrator which group that is, and a maintainer of it to add you."
    )
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
        refused = await session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login"))
    assert refused is not None
    assert refused.success is False


async def test_leaving_the_allowed_group_ends_gitlab_sign_in(
    app: Any, client: httpx.AsyncClient, settings: Settings, sandbox: RunningSandbox
) -> None:
    app.state.resources.settings = settings.model_copy(
        update={"gitlab_login_allowed_groups": "acme"}
    )
    assert (await gitlab_sign_in(client, ALICE)).status_code == 200
    store = sandbox.sandbox.store
    group, alice = store.group_by_ref("acme"), store.user_by_username("alice")
    assert group is not None
    assert alice is not None
    del group.members[alice.id]
    again = await gitlab_sign_in(client, ALICE)
    assert again.status_code == 403, again.text


async def test_a_same_named_local_account_is_never_taken_over(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    sessions: async_sessionmaker[AsyncSession],
    admin: Account,
) -> None:
    local = await make_user("carol", "admin")
    response = await gitlab_sign_in(client, CAROL)
    assert response.status_code == 200, response.text
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["username"] == "carol-gitlab"
    assert me.json()["id"] != local.id
    assert me.json()["roles"] == ["viewer"]
    local_row = await user_named(sessions, "carol")
    assert local_row is not None
    assert local_row.gitlab_user_id is None
    assert local_row.role_names == {"admin"}
    # The local account still signs in with its password, as itself.
    assert (await sign_in(client, "carol", USER_PASSWORD)).status_code == 200
    # And the GitLab user keeps landing on the distinct account.
    again = await gitlab_sign_in(client, CAROL)
    me_again = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {again.json()['access_token']}"}
    )
    assert me_again.json()["id"] == me.json()["id"]


async def test_a_gitlab_user_named_like_the_system_gets_a_distinct_name(
    client: httpx.AsyncClient, admin: Account
) -> None:
    """Issue 13, item 11: GitLab's "merge-assist" / "Merge Assist" cannot pose as the system."""
    response = await gitlab_sign_in(client, POSER)
    assert response.status_code == 200, response.text
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["username"] == "merge-assist-gitlab"
    assert me.json()["display_name"] == "Merge Assist (GitLab)"


@pytest.mark.parametrize(
    ("token", "status", "sentence"),
    [
        ("sandboxpat-nobody-knows-this-one", 401, "GitLab does not accept this token"),
        (ALICE_EXPIRED, 401, "This GitLab token has expired"),
        (ALICE_READ_API, 403, "does not have the scopes"),
        (ALICE_READ_USER, 403, "does not have the scopes"),
        (BOT, 403, "project or group access token"),
    ],
)
async def test_unusable_tokens_are_refused_with_a_reason(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    token: str,
    status: int,
    sentence: str,
) -> None:
    response = await gitlab_sign_in(client, token)
    assert response.status_code == status, response.text
    assert sentence in response.json()["detail"]
    assert token not in response.text
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_a_revoked_token_is_refused(
    client: httpx.AsyncClient, sandbox: RunningSandbox
) -> None:
    assert (await gitlab_sign_in(client, ALICE)).status_code == 200
    async with httpx.AsyncClient() as gitlab:
        revoked = await gitlab.delete(
            f"{sandbox.api_url}/personal_access_tokens/self", headers={"PRIVATE-TOKEN": ALICE}
        )
    assert revoked.status_code == 204
    response = await gitlab_sign_in(client, ALICE)
    assert response.status_code == 401
    assert response.json()["detail"].startswith("This GitLab token has been revoked")


async def test_a_deactivated_user_is_refused(client: httpx.AsyncClient, admin: Account) -> None:
    body = (await gitlab_sign_in(client, ALICE)).json()
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    deactivated = await admin.client.post(f"/api/users/{me.json()['id']}/deactivate")
    assert deactivated.status_code == 200, deactivated.text
    response = await gitlab_sign_in(client, ALICE)
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


async def test_a_soon_expiring_token_is_accepted_with_a_warning_sent_once(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await gitlab_sign_in(client, ALICE_SOON)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["gitlab_token_expires_at"] is not None
    assert body["warning"].startswith("Your GitLab token expires on ")
    second = await gitlab_sign_in(client, ALICE_SOON)
    assert second.json()["warning"] == body["warning"]
    async with sessions() as session:
        messages = (
            await session.execute(
                select(Message.subject, MessageRecipient.user_id).join(
                    MessageRecipient, MessageRecipient.message_id == Message.id
                )
            )
        ).all()
    assert len(messages) == 1
    assert messages[0].subject == "Your GitLab token expires soon"


async def test_failed_token_sign_ins_are_throttled_per_address(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    app.state.resources.settings = settings.model_copy(update={"login_max_failures_per_address": 2})
    for _ in range(2):
        assert (await gitlab_sign_in(client, "sandboxpat-wrong-guess-0000")).status_code == 401
    throttled = await gitlab_sign_in(client, ALICE)
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.json()["detail"]
    assert int(throttled.headers["Retry-After"]) >= 1


async def test_a_token_with_spaces_or_control_characters_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/auth/login-gitlab", json={"token": "abc def\n"})
    assert response.status_code == 422
    assert "abc def" not in response.text


async def test_without_a_configured_gitlab_token_sign_in_is_unavailable(
    app: Any, client: httpx.AsyncClient, settings: Settings
) -> None:
    app.state.resources.settings = settings.model_copy(update={"gitlab_url": None})
    response = await gitlab_sign_in(client, ALICE)
    assert response.status_code == 503
    assert "MERGE_ASSIST_GITLAB_URL" in response.json()["detail"]


async def every_text_value(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every value of every column of every table, as text."""
    from merge_assist.kit.db import Base
    from merge_assist.models import Base as AllModels

    assert AllModels is Base
    values: list[str] = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            values.extend(str(value) for row in rows for value in row if value is not None)
    return values


async def test_the_token_is_never_stored_logged_or_returned_in_plain_text(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import io
    import logging

    from merge_assist.auth.gitlab_identities import gitlab_token_for
    from merge_assist.kit.logging import JsonFormatter

    json_lines = io.StringIO()
    handler = logging.StreamHandler(json_lines)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    tokens = [ALICE, ALICE_SOON, ALICE_READ_API, ALICE_EXPIRED, "sandboxpat-typo-7e6d5c4b3a"]
    try:
        responses = [await gitlab_sign_in(client, token) for token in tokens]
        responses.append(
            await client.post(
                "/api/auth/refresh", json={"refresh_token": responses[0].json()["refresh_token"]}
            )
        )
        access = responses[0].json()["access_token"]
        responses.append(
            await client.get("/api/auth/me", headers={"Authorization": f"Bearer {access}"})
        )
        responses.append(
            await client.get("/api/messages", headers={"Authorization": f"Bearer {access}"})
        )
    finally:
        root.removeHandler(handler)
    assert [r.status_code for r in responses[:5]] == [200, 200, 403, 401, 401]
    stored = await every_text_value(sessions)
    logged = [record.getMessage() for record in caplog.records]
    logged += [str(vars(record)) for record in caplog.records]
    answered = [r.text + str(r.headers) for r in responses]
    # The capture works: the refused GitLab calls were logged (without their token).
    assert any(line == "gitlab call refused" for line in logged)
    assert "gitlab call refused" in json_lines.getvalue()
    for token in tokens:
        assert not [value for value in stored if token in value]
        assert not [line for line in logged if token in line]
        assert token not in json_lines.getvalue()
        assert not [text for text in answered if token in text]
    # ... and yet the product can read the latest one back for the vault.
    async with sessions() as session:
        user = await session.scalar(select(User))
        assert user is not None
        assert await gitlab_token_for(session, settings, user.id) == ALICE_SOON


async def test_a_browser_gets_the_refresh_token_of_a_gitlab_sign_in_as_a_cookie(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/auth/login-gitlab", json={"token": ALICE}, headers={"X-Refresh-Transport": "cookie"}
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()
    assert response.json()["gitlab_token_expires_at"] is None
    refreshed = await client.post(
        "/api/auth/refresh", headers={"X-CSRF-Token": client.cookies["merge_assist_csrf"]}
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_read_api_with_both_repository_scopes_is_enough(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await gitlab_sign_in(client, ALICE_LEAST)
    assert response.status_code == 200, response.text
    async with sessions() as session:
        identity = await session.scalar(select(GitLabIdentity))
        assert identity is not None
        assert identity.scopes == "read_api read_repository write_repository"


async def test_a_gitlab_address_that_is_not_a_gitlab_is_a_503_with_a_reason(
    app: Any, client: httpx.AsyncClient, settings: Settings, sandbox: RunningSandbox
) -> None:
    app.state.resources.settings = settings.model_copy(
        update={"gitlab_url": f"{sandbox.url}/not-gitlab"}
    )
    response = await gitlab_sign_in(client, ALICE)
    assert response.status_code == 503
    assert "check MERGE_ASSIST_GITLAB_URL" in response.json()["detail"]
