"""Authentication and scopes as GitLab answers them, through python-gitlab and raw HTTP."""

from __future__ import annotations

from collections.abc import Callable

import gitlab
import httpx
import pytest

from gitlab_sandbox.testing import RunningSandbox


def test_current_user_and_token_self(client: Callable[[str], gitlab.Gitlab]) -> None:
    gl = client("alice")
    gl.auth()
    assert gl.user is not None
    assert gl.user.username == "alice"
    token = gl.personal_access_tokens.get("self")
    assert token.scopes == ["api"]
    assert token.active is True


def test_users_lookup_by_username_and_id(client: Callable[[str], gitlab.Gitlab]) -> None:
    gl = client("alice")
    found = gl.users.list(username="bob")
    assert [u.username for u in found] == ["bob"]
    assert gl.users.get(found[0].id).name == "Bob"


def test_missing_and_unknown_tokens_get_401(sandbox: RunningSandbox) -> None:
    assert httpx.get(f"{sandbox.api_url}/user").json() == {"message": "401 Unauthorized"}
    response = httpx.get(f"{sandbox.api_url}/user", headers={"PRIVATE-TOKEN": "glpat-nope"})
    assert response.status_code == 401
    assert response.json() == {"message": "401 Unauthorized"}


def test_bearer_header_and_query_parameter_are_accepted(sandbox: RunningSandbox) -> None:
    token = sandbox.token_for("bob")
    bearer = httpx.get(f"{sandbox.api_url}/user", headers={"Authorization": f"Bearer {token}"})
    assert bearer.json()["username"] == "bob"
    query = httpx.get(f"{sandbox.api_url}/user", params={"private_token": token})
    assert query.json()["username"] == "bob"


def test_expired_token_is_refused(client: Callable[[str], gitlab.Gitlab]) -> None:
    with pytest.raises(gitlab.GitlabAuthenticationError) as refused:
        client("expired").auth()
    assert refused.value.response_code == 401


def test_read_api_token_reads_but_cannot_write(client: Callable[[str], gitlab.Gitlab]) -> None:
    gl = client("reader")
    project = gl.projects.get("acme/app")
    assert project.path_with_namespace == "acme/app"
    mr = project.mergerequests.get(1)
    with pytest.raises(gitlab.GitlabCreateError) as refused:
        mr.notes.create({"body": "hello"})
    assert refused.value.response_code == 403
    assert "insufficient_scope" in str(refused.value.error_message)


def test_non_members_do_not_see_private_projects(client: Callable[[str], gitlab.Gitlab]) -> None:
    with pytest.raises(gitlab.GitlabGetError) as missing:
        client("outsider").projects.get("acme/app")
    assert missing.value.response_code == 404
    assert missing.value.error_message == "404 Project Not Found"


def test_project_by_encoded_path_and_id_are_the_same(
    client: Callable[[str], gitlab.Gitlab],
) -> None:
    gl = client("alice")
    by_path = gl.projects.get("acme/app")
    by_id = gl.projects.get(by_path.id)
    assert by_id.path_with_namespace == by_path.path_with_namespace
    assert by_path.permissions["project_access"]["access_level"] == 30
    assert by_path.http_url_to_repo.endswith("/acme/app.git")


def test_sudo_needs_an_admin_token_with_the_sudo_scope(sandbox: RunningSandbox) -> None:
    sandbox.seed(
        {"users": [{"username": "boss", "admin": True, "tokens": [{"scopes": ["api", "sudo"]}]}]}
    )
    as_alice = httpx.get(
        f"{sandbox.api_url}/user",
        headers={"PRIVATE-TOKEN": sandbox.token_for("boss"), "Sudo": "alice"},
    )
    assert as_alice.json()["username"] == "alice"
    no_scope = httpx.get(
        f"{sandbox.api_url}/user",
        headers={"PRIVATE-TOKEN": sandbox.token_for("root"), "Sudo": "alice"},
    )
    assert no_scope.status_code == 403
    not_admin = httpx.get(
        f"{sandbox.api_url}/user",
        headers={"PRIVATE-TOKEN": sandbox.token_for("bob"), "Sudo": "alice"},
    )
    assert not_admin.status_code == 403


def test_revoking_the_token_itself_makes_it_fail_with_revoked(sandbox: RunningSandbox) -> None:
    token = sandbox.token_for("bob")
    headers = {"PRIVATE-TOKEN": token}
    revoked = httpx.delete(f"{sandbox.api_url}/personal_access_tokens/self", headers=headers)
    assert revoked.status_code == 204
    after = httpx.get(f"{sandbox.api_url}/user", headers=headers)
    assert after.status_code == 401
    assert after.json()["error_description"] == "Token has been revoked."


def test_revoking_a_token_by_id_needs_its_owner_or_an_admin(sandbox: RunningSandbox) -> None:
    bob = {"PRIVATE-TOKEN": sandbox.token_for("bob")}
    alice = {"PRIVATE-TOKEN": sandbox.token_for("alice")}
    bob_token_id = httpx.get(f"{sandbox.api_url}/personal_access_tokens/self", headers=bob).json()[
        "id"
    ]
    url = f"{sandbox.api_url}/personal_access_tokens/{bob_token_id}"
    assert httpx.delete(url, headers=alice).status_code == 404
    assert httpx.get(f"{sandbox.api_url}/user", headers=bob).status_code == 200
    assert httpx.delete(url, headers=bob).status_code == 204
    assert httpx.get(f"{sandbox.api_url}/user", headers=bob).status_code == 401
