"""``merge-assist users`` against the test database, then checked through the API."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.auth.conftest import Account, RunCli, sign_in

MakeClient = Callable[..., httpx.AsyncClient]
PASSWORD = "cli-chosen-password"


def _shown_password(output: str) -> str:
    lines = [line for line in output.splitlines() if "shown only now" in line]
    assert len(lines) == 1
    return lines[0].rsplit(": ", 1)[1]


async def test_create_generates_and_shows_the_password_once(
    run_cli: RunCli, make_client: MakeClient
) -> None:
    result = await run_cli("users", "create", "Alice", "--role", "admin", "--display-name", "Al")
    assert result.exit_code == 0, result.output
    assert "Created user alice (id 1) with roles: admin." in result.stdout
    password = _shown_password(result.stdout)
    assert len(password) >= 12
    response = await sign_in(make_client(), "alice", password)
    assert response.status_code == 200
    again = await run_cli("users", "list")
    assert password not in again.stdout


async def test_create_reads_the_password_from_stdin(
    run_cli: RunCli, make_client: MakeClient
) -> None:
    result = await run_cli(
        "users",
        "create",
        "bob",
        "-r",
        "viewer",
        "-r",
        "member",
        "--email",
        "bob@example.com",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "shown only now" not in result.stdout
    assert PASSWORD not in result.output
    token = (await sign_in(make_client(), "bob", PASSWORD)).json()["access_token"]
    me = await make_client().get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["roles"] == ["member", "viewer"]
    assert me.json()["email"] == "bob@example.com"


async def test_piped_stdin_is_used_without_the_flag(
    run_cli: RunCli, make_client: MakeClient
) -> None:
    result = await run_cli("users", "create", "carol", stdin=PASSWORD)
    assert result.exit_code == 0, result.output
    assert "with roles: member." in result.stdout
    assert (await sign_in(make_client(), "carol", PASSWORD)).status_code == 200


async def test_refusals_exit_1_with_a_sentence(run_cli: RunCli) -> None:
    await run_cli("users", "create", "dave", stdin=PASSWORD)
    cases = [
        (("users", "create", "DAVE"), PASSWORD, "The username 'dave' is already taken."),
        (("users", "create", "erin", "--role", "king"), None, "Unknown role 'king'"),
        (("users", "create", "x y"), PASSWORD, "a username has 3 to 64 characters"),
        (("users", "create", "erin", "--password-stdin"), "", "No password on stdin."),
        (("users", "create", "erin", "--password-stdin"), "short", "at least 12 characters"),
        (("users", "set-role", "nobody", "viewer"), None, "There is no user called 'nobody'."),
        (("users", "reset-password", "dave"), "tiny", "at least 12 characters"),
    ]
    for args, stdin, message in cases:
        result = await run_cli(*args, stdin=stdin)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)


async def test_set_role_deactivate_and_list(run_cli: RunCli) -> None:
    await run_cli("users", "create", "root", "--role", "admin", stdin=PASSWORD)
    await run_cli("users", "create", "fred", stdin=PASSWORD)
    result = await run_cli("users", "set-role", "fred", "project_owner", "viewer")
    assert result.exit_code == 0, result.output
    assert "fred now has roles: project_owner, viewer." in result.stdout
    last_admin = await run_cli("users", "deactivate", "root")
    assert last_admin.exit_code == 1
    assert "last active admin" in last_admin.stderr
    assert (await run_cli("users", "deactivate", "fred")).exit_code == 0
    listing = (await run_cli("users", "list")).stdout.splitlines()
    assert listing[0].split() == ["id", "username", "state", "roles", "display", "name"]
    # ordered by username
    assert listing[1].split() == ["2", "fred", "inactive", "project_owner,viewer", "fred"]
    assert listing[2].split() == ["1", "root", "active", "admin", "root"]


async def test_reset_password_replaces_the_old_one_and_ends_sign_ins(
    run_cli: RunCli, admin: Account, make_client: MakeClient
) -> None:
    result = await run_cli("users", "reset-password", "root")
    assert result.exit_code == 0, result.output
    new_password = _shown_password(result.stdout)
    refreshed = await make_client().post(
        "/api/auth/refresh", json={"refresh_token": admin.refresh_token}
    )
    assert refreshed.status_code == 401
    assert (await sign_in(make_client(), "root", admin.password)).status_code == 401
    assert (await sign_in(make_client(), "root", new_password)).status_code == 200
    chosen = await run_cli("users", "reset-password", "root", "--password-stdin", stdin=PASSWORD)
    assert chosen.exit_code == 0
    assert (await sign_in(make_client(), "root", PASSWORD)).status_code == 200
